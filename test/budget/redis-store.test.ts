import { describe, expect, it } from 'vitest';
import {
  type Limits,
  type RedisClient,
  RedisBudgetStore,
  createRedisClient,
  whenReady,
} from '#budget';
import { testEnv } from '../support/test-env.js';
import { budgetStoreConformance } from './budget-store.conformance.js';
import {
  FakeDailyCostSource,
  type StoreHarness,
  allowed,
  request,
} from './budget-store.harness.js';
import { unlinkUnder } from '../support/redis-keys.js';

budgetStoreConformance('RedisBudgetStore', async () => {
  const { redisUrl, keyPrefix } = testEnv();
  const source = new FakeDailyCostSource();
  let offset = 0;
  const clients: RedisClient[] = [];
  // Each store on its own connection, as separate service instances would be.
  const open = async (): Promise<RedisBudgetStore> => {
    const client = createRedisClient(redisUrl, { commandTimeoutMs: 5_000 });
    clients.push(client);
    await whenReady(client, 5_000);
    return new RedisBudgetStore(client, keyPrefix, source, { clockOffsetMs: () => offset });
  };
  const store = await open();
  const harness: StoreHarness = {
    store,
    source,
    advance: (ms) => {
      offset += ms;
    },
    // A flush of this run's keys: what a Redis restart without persistence leaves behind.
    restart: async () => {
      await unlinkUnder(clients[0]!, keyPrefix);
    },
    peers: (count) => Promise.all(Array.from({ length: count }, open)),
    close: async () => {
      await Promise.all(clients.map((client) => client.quit()));
    },
  };
  return harness;
});

describe('RedisBudgetStore key hygiene', () => {
  it('writes only under its prefix, and every key it leaves has a TTL', async () => {
    const { redisUrl, keyPrefix } = testEnv();
    const client = createRedisClient(redisUrl, { commandTimeoutMs: 5_000 });
    await whenReady(client, 5_000);
    let offset = 0;
    const store = new RedisBudgetStore(client, keyPrefix, new FakeDailyCostSource(), {
      clockOffsetMs: () => offset,
    });
    try {
      const limits: Limits = {
        requests: { capacity: 5, perMinute: 1 },
        tokens: { capacity: 1_000, perMinute: 1 },
        concurrent: 3,
        dailyCostMicros: 10_000,
        modelRequests: { capacity: 5, perMinute: 1 },
        modelTokens: { capacity: 1_000, perMinute: 1 },
      };
      const subject = 'hygiene';
      const a = allowed(await store.reserve(request(subject, limits, { idempotencyKey: 'k' })));
      const b = allowed(await store.reserve(request(subject, limits, { ttlSeconds: 1 })));
      const c = allowed(await store.reserve(request(subject, limits)));
      await store.commit(a.reservation.reservationId, { promptTokens: 1, completionTokens: 1 });
      await store.refund(c.reservation.reservationId, null);
      offset += 2_000;
      expect((await store.expireDue('charge')).map((s) => s.reservationId)).toEqual([
        b.reservation.reservationId,
      ]);
      await store.confirmLedgered(await store.pendingLedger(0));

      const keys = await client.keys(`${keyPrefix}*`);
      expect(keys.length).toBeGreaterThanOrEqual(5);
      for (const key of keys) {
        const ttl = await client.pttl(key);
        expect(ttl, key).toBeGreaterThan(0);
        // Settled and confirmed records go a day after settlement, not after the week kept
        // for unconfirmed ones.
        expect(ttl, key).toBeLessThanOrEqual(2 * 86_400_000 + 600_000);
      }
    } finally {
      await store.close();
    }
  });
});
