import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Limits,
  RedisBudgetStore,
  type RedisClient,
  createRedisClient,
  whenReady,
} from '#budget';
import { testEnv } from '../support/test-env.js';
import {
  FakeDailyCostSource,
  UNLIMITED,
  allowed,
  refused,
  request,
  settled,
} from './budget-store.harness.js';
import { RedisClusterFixture } from '../support/redis-cluster.fixture.js';

const LIMITS: Limits = {
  ...UNLIMITED,
  requests: { capacity: 5, perMinute: 1 },
  tokens: { capacity: 10_000, perMinute: 1 },
  concurrent: 5,
  dailyCostMicros: 100_000,
  modelTokens: { capacity: 5_000, perMinute: 1 },
};

describe('RedisBudgetStore on a 3-master Redis Cluster', () => {
  const cluster = new RedisClusterFixture();
  const clients: RedisClient[] = [];
  const source = new FakeDailyCostSource();
  let offset = 0;
  let keyPrefix = '';
  const subjects = Array.from({ length: 60 }, (_, i) => `cluster-user-${i}`);

  const open = async (): Promise<RedisBudgetStore> => {
    const client = createRedisClient(cluster.url, { commandTimeoutMs: 5_000 });
    clients.push(client);
    await whenReady(client, 10_000);
    return new RedisBudgetStore(client, keyPrefix, source, { clockOffsetMs: () => offset });
  };

  beforeAll(async () => {
    keyPrefix = testEnv().keyPrefix;
    await cluster.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
    await cluster.stop();
  }, 60_000);

  it('reserves, commits and refunds for subjects spread over every master', async () => {
    const store = await open();
    const ids = [];
    for (const subject of subjects) {
      const ok = allowed(await store.reserve(request(subject, LIMITS)));
      expect(ok.state.requests!.remaining).toBe(4);
      ids.push(ok.reservation.reservationId);
    }
    // Every master holds some subjects: the layout really spreads over slots.
    const masters = (clients[0] as Cluster).nodes('master');
    expect(masters).toHaveLength(3);
    for (const node of masters) {
      expect(await node.dbsize()).toBeGreaterThan(0);
    }
    for (const [i, id] of ids.entries()) {
      const result =
        i % 2 === 0
          ? await store.commit(id, { promptTokens: 100, completionTokens: 50 })
          : await store.refund(id, null);
      const done = settled(result);
      expect(done.settlement.subject).toBe(subjects[i]);
      expect(done.state.concurrent!.remaining).toBe(5);
    }
    const pending = await store.pendingLedger(0, 1_000);
    expect(pending.map((s) => s.reservationId).sort()).toEqual([...ids].sort());
    await store.confirmLedgered(pending);
    expect(await store.pendingLedger(0, 1_000)).toEqual([]);
  });

  it('expires due reservations on every master exactly once, with two sweepers racing', async () => {
    const [a, b] = [await open(), await open()];
    const ids = new Set<string>();
    for (const subject of subjects) {
      ids.add(
        allowed(await a.reserve(request(subject, LIMITS, { ttlSeconds: 1 }))).reservation
          .reservationId,
      );
    }
    expect(await a.expireDue('charge')).toEqual([]);
    offset += 1_500;
    const [fromA, fromB] = await Promise.all([a.expireDue('charge'), b.expireDue('charge')]);
    const all = [...fromA, ...fromB];
    expect(all.map((s) => s.reservationId).sort()).toEqual([...ids].sort());
    expect(all.every((s) => s.status === 'expired' && s.costMicros === 300)).toBe(true);
    expect(await a.expireDue('charge')).toEqual([]);
    const view = await b.usage(subjects[7]!, LIMITS);
    expect(view.inFlight).toEqual([]);
    expect(view.state.concurrent!.remaining).toBe(5);
  });

  it('keeps every dimension atomic for one subject under concurrent checks', async () => {
    const stores = [await open(), await open()];
    const subject = 'cluster-hot';
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        stores[i % 2]!.reserve(request(subject, LIMITS, { ttlSeconds: 60 })),
      ),
    );
    // Five requests of capacity (and five leases): nothing more, whichever connection asked.
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    const no = refused(await stores[0]!.reserve(request(subject, LIMITS)));
    expect(['requests', 'concurrent']).toContain(no.dimension);
  });
});
