import { createServer } from 'node:net';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createRedisClient } from './redis.client.js';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('createRedisClient', () => {
  it('makes a node client or a Cluster from the URL', async () => {
    const port = await closedPort();
    const node = createRedisClient(`redis://127.0.0.1:${port}`, { commandTimeoutMs: 200 });
    const cluster = createRedisClient(
      `redis-cluster://u:p%40ss@127.0.0.1:${port},127.0.0.1:${port + 1}`,
      {
        commandTimeoutMs: 200,
      },
    );
    try {
      expect(node).toBeInstanceOf(Redis);
      expect(cluster).toBeInstanceOf(Cluster);
      expect((cluster as Cluster).options.redisOptions?.password).toBe('p@ss');
    } finally {
      node.disconnect();
      cluster.disconnect();
    }
    expect(() => createRedisClient('http://x', { commandTimeoutMs: 200 })).toThrow(/REDIS_URL/);
    expect(() => createRedisClient('redis-cluster://h:0', { commandTimeoutMs: 200 })).toThrow(
      /invalid cluster node/,
    );
  });

  it('fails fast instead of queueing while Redis is unreachable', async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await closedPort()}`, {
      commandTimeoutMs: 300,
    });
    try {
      const started = Date.now();
      await expect(client.ping()).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      client.disconnect();
    }
  });
});
