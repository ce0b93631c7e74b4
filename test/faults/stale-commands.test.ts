import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubjectKeys } from '#budget';
import { startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import type { Reply } from '../support/http.client.js';
import { keysUnder } from '../support/redis-keys.js';
import { ThrowawayRedis } from '../support/redis-server.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §7 "A command that timed out is never executed later". A private redis-server is paused
 * (SIGSTOP) for longer than REDIS_COMMAND_TIMEOUT_MS under checks, then resumed (SIGCONT): the
 * reserve scripts still in its socket run then. Each must answer LATE without writing, so no
 * reservation exists that no caller received: none holds a lease, none is charged at expiry,
 * and in local mode (where the caller got a local reservation instead) nobody is charged twice.
 */

const TIMEOUT_MS = 300;
const PAUSE_MS = 2_000;

let redis: ThrowawayRedis;
let local: TestApp;
let closed: TestApp;
let keyPrefix: string;
let subject: string;

const refOf = (id: string): string => id.slice(id.lastIndexOf('.') + 1);

const check = (app: TestApp): Promise<Reply> =>
  app.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 100,
    max_tokens: 10,
    ttl_seconds: 60,
  });

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  keyPrefix = testEnv().keyPrefix;
  const env = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
  };
  local = await startTestApp({ ...env, REDIS_FAILURE_MODE: 'local' });
  closed = await startTestApp({ ...env, REDIS_FAILURE_MODE: 'closed' });
  const tier = await createTier(local.sql, 'stale', {
    requestsPerMinute: 10_000,
    dailyCostLimitUsd: '100',
  });
  subject = await subjectOnTier(local.sql, tier, [local.request, closed.request], 'stale');
});

afterAll(async () => {
  redis?.resume();
  await Promise.allSettled([local?.close(), closed?.close()]);
  await redis?.kill();
});

describe('Redis paused longer than the command timeout, then resumed', () => {
  it('runs none of the scripts whose callers gave up', async () => {
    const received = new Set<string>();
    // Both instances have reserved on Redis (day counter seeded, scripts loaded, clock known).
    for (const app of [local, closed]) {
      const warm = await check(app);
      expect(warm.status, JSON.stringify(warm.body)).toBe(200);
      received.add(String(warm.body.reservation_id));
    }

    redis.pause();
    const paused = performance.now();
    const replies: Reply[] = [];
    const statuses: Record<string, number[]> = { local: [], closed: [] };
    // Checks keep coming during the pause; each instance retries Redis once a second.
    while (performance.now() - paused < PAUSE_MS - 400) {
      const wave = await Promise.all([
        ...Array.from({ length: 5 }, () => check(local)),
        ...Array.from({ length: 5 }, () => check(closed)),
      ]);
      wave.forEach((reply, i) => statuses[i < 5 ? 'local' : 'closed']!.push(reply.status));
      replies.push(...wave);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await new Promise((resolve) => setTimeout(resolve, PAUSE_MS - (performance.now() - paused)));
    redis.resume();
    // Whatever sat in Redis's sockets has run by now.
    await new Promise((resolve) => setTimeout(resolve, 500));

    expect(new Set(statuses.local)).toEqual(new Set([200]));
    expect(new Set(statuses.closed)).toEqual(new Set([503]));
    for (const reply of replies) {
      if (reply.status === 200) {
        received.add(String(reply.body.reservation_id));
      }
    }
    const receivedRefs = new Set([...received].map(refOf));

    // Every reservation record and lease in Redis is one a caller received.
    const keys = SubjectKeys.of(keyPrefix, subject);
    const records = (await keysUnder(redis.url, keys.record(''))).map((key) =>
      key.slice(keys.record('').length),
    );
    const client = new Redis(redis.url);
    const leases = await client.zrange(keys.leases, 0, -1);
    client.disconnect();
    expect(records.filter((ref) => !receivedRefs.has(ref))).toEqual([]);
    expect(leases.filter((ref) => !receivedRefs.has(ref))).toEqual([]);
    expect(records.length).toBe(2); // the two warm-up checks

    // Local mode: each caller settles what it received, and is charged once for it.
    const usage = { prompt_tokens: 100, completion_tokens: 5 };
    for (const id of received) {
      // Right after SIGCONT the instance may still be reconnecting: a 503 store_unavailable
      // says "retry shortly", and a gateway does (settling is idempotent).
      let commit = await local.request('POST', '/v1/commit', { reservation_id: id, usage });
      for (let attempt = 0; commit.status === 503 && attempt < 50; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        commit = await local.request('POST', '/v1/commit', { reservation_id: id, usage });
      }
      expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    }
    const rows = await local.sql(
      'SELECT reservation_id, count(*)::int AS n FROM usage_ledger WHERE subject = $1 GROUP BY 1',
      [subject],
    );
    expect(rows.rows.length).toBe(received.size);
    expect(rows.rows.every((row: { n: number }) => row.n === 1)).toBe(true);
    expect(new Set(rows.rows.map((row: { reservation_id: string }) => row.reservation_id))).toEqual(
      received,
    );
  }, 30_000);
});
