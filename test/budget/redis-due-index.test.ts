import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  RedisBudgetStore,
  type RedisClient,
  createRedisClient,
  parseReservationId,
  whenReady,
} from '#budget';
import { GROUPS, GroupKeys, SubjectKeys } from '#budget';
import { testEnv } from '../support/test-env.js';
import { FakeDailyCostSource, UNLIMITED, allowed, request } from './budget-store.harness.js';

/** The groups' index zsets (budget.keys.ts): what the sweeps read instead of the keyspace. */
describe('RedisBudgetStore due and unconfirmed indexes', () => {
  let client: RedisClient;
  let store: RedisBudgetStore;
  let keyPrefix: string;
  let offset = 0;

  beforeEach(async () => {
    const env = testEnv();
    keyPrefix = env.keyPrefix;
    offset = 0;
    client = createRedisClient(env.redisUrl, { commandTimeoutMs: 5_000 });
    await whenReady(client, 5_000);
    store = new RedisBudgetStore(client, keyPrefix, new FakeDailyCostSource(), {
      clockOffsetMs: () => offset,
    });
  });

  afterEach(async () => {
    await store.close();
  });

  /** Every entry of one index kind, over all groups: subject tag → score. */
  async function indexed(kind: 'due' | 'unconfirmed'): Promise<Record<string, number>> {
    const entries: Record<string, number> = {};
    const all = await Promise.all(
      GroupKeys.all(keyPrefix).map((group) => client.zrange(group[kind], 0, -1, 'WITHSCORES')),
    );
    for (const flat of all) {
      for (let i = 0; i < flat.length; i += 2) {
        entries[flat[i]!] = Number(flat[i + 1]);
      }
    }
    return entries;
  }

  const reserve = async (subject: string, ttlSeconds = 600) =>
    allowed(await store.reserve(request(subject, UNLIMITED, { ttlSeconds }))).reservation;

  it('holds exactly the subjects with leases, at their earliest expiry, until settled', async () => {
    const a1 = await reserve('idx-a', 60);
    const a2 = await reserve('idx-a', 600);
    const b = await reserve('idx-b');
    const c = await reserve('idx-c', 1);
    expect(await indexed('due')).toEqual({
      'idx-a': a1.expiresAtMs,
      'idx-b': b.expiresAtMs,
      'idx-c': c.expiresAtMs,
    });
    expect(await indexed('unconfirmed')).toEqual({});

    await store.commit(a1.reservationId, { promptTokens: 1, completionTokens: 1 });
    expect((await indexed('due'))['idx-a']).toBe(a2.expiresAtMs);
    await store.refund(a2.reservationId, null);
    await store.refund(b.reservationId, { promptTokens: 1, completionTokens: 0 });
    expect(Object.keys(await indexed('due'))).toEqual(['idx-c']);
    offset += 2_000;
    expect((await store.expireDue('release')).map((s) => s.reservationId)).toEqual([
      c.reservationId,
    ]);
    expect(await indexed('due')).toEqual({});

    expect(Object.keys(await indexed('unconfirmed')).sort()).toEqual(['idx-a', 'idx-b', 'idx-c']);
    await store.confirmLedgered(await store.pendingLedger(0));
    expect(await indexed('unconfirmed')).toEqual({});
  });

  it('finds a due reservation among thousands of idle records without scanning', async () => {
    const idle = Array.from({ length: 2_000 }, (_, i) => `idle-${i}`);
    for (let i = 0; i < idle.length; i += 200) {
      const held = await Promise.all(idle.slice(i, i + 200).map((subject) => reserve(subject)));
      // Half are settled (records kept), half stay held but not due.
      await store.confirmLedgered(
        (
          await Promise.all(
            held
              .filter((_, j) => j % 2 === 0)
              .map((r) => store.commit(r.reservationId, { promptTokens: 1, completionTokens: 1 })),
          )
        ).flatMap((result) => (result.ok ? [result.settlement] : [])),
      );
    }
    const needle = await reserve('needle', 1);
    offset += 2_000;

    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
      sent.push(command.name);
      return (send as (...args: unknown[]) => unknown)(command, ...rest);
    }) as typeof client.sendCommand;
    const expired = await store.expireDue('charge');
    expect(expired.map((s) => s.reservationId)).toEqual([needle.reservationId]);
    expect(sent).not.toContain('scan');
    expect(sent.filter((name) => name === 'zrangebyscore').length).toBeGreaterThanOrEqual(GROUPS);
    // A clock, one read per group, then the needle's leases and its script: O(groups + due).
    expect(sent.length).toBeLessThanOrEqual(GROUPS + 4);
    expect(await store.pendingLedger(60_000)).toEqual([]);
  });

  it('drops index entries whose subject keys vanished (expired or flushed)', async () => {
    const lost = SubjectKeys.of(keyPrefix, 'vanished-lease');
    await reserve('vanished-lease', 1);
    await client.del(lost.leases);
    offset += 2_000;
    expect(await store.expireDue('charge')).toEqual([]);
    expect(await client.zscore(lost.group.due, lost.tag)).toBeNull();

    const unconfirmed = SubjectKeys.of(keyPrefix, 'vanished-pend');
    const held = await reserve('vanished-pend');
    await store.commit(held.reservationId, { promptTokens: 1, completionTokens: 1 });
    expect(await client.zscore(unconfirmed.group.unconfirmed, unconfirmed.tag)).not.toBeNull();
    await client.del(unconfirmed.pending);
    expect(await store.pendingLedger(0)).toEqual([]);
    expect(await client.zscore(unconfirmed.group.unconfirmed, unconfirmed.tag)).toBeNull();
  });

  it('re-appends a settlement whose record is gone only once, then forgets it', async () => {
    const keys = SubjectKeys.of(keyPrefix, 'orphan');
    const held = await reserve('orphan');
    await store.commit(held.reservationId, { promptTokens: 1, completionTokens: 1 });
    await client.del(keys.record(parseReservationId(held.reservationId)!.ref));
    expect(await store.pendingLedger(0)).toEqual([]);
    expect(await client.exists(keys.pending)).toBe(0);
    expect(await client.zscore(keys.group.unconfirmed, keys.tag)).toBeNull();
  });
});
