import { afterEach, describe, expect, it } from 'vitest';
import { createRedisClient, whenReady } from '#budget';
import type { RedisClient } from '#budget';
import { PostgresProxy } from '../ledger/ledger.helpers.js';
import { testEnv } from '../support/test-env.js';

/**
 * REDIS_COMMAND_TIMEOUT_MS bounds how long Redis may take to answer, not how long this process
 * may be busy: a reply that arrived while the event loop was blocked is still taken. Otherwise a
 * burst of requests makes a healthy Redis look down and every instance decides on its own.
 */

const TIMEOUT_MS = 200;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function client(url: string): Promise<RedisClient> {
  const redis = createRedisClient(url, { commandTimeoutMs: TIMEOUT_MS });
  cleanups.push(() => redis.disconnect());
  await whenReady(redis, 5_000);
  return redis;
}

/** A client whose Redis (behind a proxy) stops answering once it is connected. */
async function hungClient(): Promise<RedisClient> {
  const proxy = new PostgresProxy(new URL(testEnv().redisUrl));
  await proxy.start();
  cleanups.push(() => proxy.stop());
  const redis = await client(proxy.url);
  proxy.hang();
  return redis;
}

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // Busy, as a process parsing a burst of requests is.
  }
}

describe('Redis command timeout', () => {
  it('takes a reply that arrived while the process was too busy to read it', async () => {
    const redis = await client(testEnv().redisUrl);
    const pong = redis.ping();
    blockEventLoop(3 * TIMEOUT_MS);
    await expect(pong).resolves.toBe('PONG');
  });

  it('still fails a command Redis never answers, soon after the timeout', async () => {
    const redis = await hungClient();
    const started = performance.now();
    await expect(redis.ping()).rejects.toThrow(/timed out/);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 300);
  });

  it('fails a command queued behind a hung batch within twice the timeout', async () => {
    const redis = await hungClient();
    const first = redis.ping();
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS / 2));
    const started = performance.now();
    const queued = redis.ping();
    await expect(first).rejects.toThrow(/timed out/);
    await expect(queued).rejects.toThrow(/timed out/);
    expect(performance.now() - started).toBeLessThan(2 * TIMEOUT_MS + 300);
  });
});
