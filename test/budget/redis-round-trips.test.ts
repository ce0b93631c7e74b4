import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Limits,
  RedisBudgetStore,
  type RedisClient,
  type ScopeLevel,
  SubjectKeys,
  createRedisClient,
  whenReady,
} from '#budget';
import { eventually } from '../support/polling.js';
import { ThrowawayRedis } from '../support/redis-server.js';
import { FakeDailyCostSource, allowed, request, settled } from './budget-store.harness.js';

/**
 * SPEC §3 scopes and the house rule "a check makes one Redis round trip": counted by the server
 * itself (MONITOR) on a redis-server of this file's own, so nothing else is counted.
 * A subject with no parent pays nothing for scopes: one command per check. A 3-level scope
 * costs one script per level.
 */
const LIMITS: Limits = {
  requests: { capacity: 1_000, perMinute: 1_000 },
  tokens: { capacity: 10_000_000, perMinute: 10_000_000 },
  modelRequests: null,
  modelTokens: null,
  concurrent: 1_000,
  dailyCostMicros: 1_000_000_000,
  monthlyCostMicros: 1_000_000_000,
};
const CHECKS = 50;

let redis: ThrowawayRedis;
let client: RedisClient;
let admin: Redis;
let store: RedisBudgetStore;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  client = createRedisClient(redis.url, { commandTimeoutMs: 5_000 });
  await whenReady(client, 5_000);
  admin = new Redis(redis.url);
  store = new RedisBudgetStore(client, 'rt:', new FakeDailyCostSource());
});

afterAll(async () => {
  await client?.quit();
  admin?.disconnect();
  await redis?.kill();
});

interface Seen {
  name: string;
  args: string[];
  source: string;
}

/**
 * Every command the server ran while `work` ran, in order, as MONITOR sees them: source "lua"
 * for those a script ran itself. MONITOR's feed trails the replies, so a PING sent after the
 * work marks its end: once it is seen, everything before it was.
 */
async function monitored(work: () => Promise<unknown>): Promise<Seen[]> {
  const monitor = await admin.monitor();
  const seen: Seen[] = [];
  let ended = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = args[0]!.toLowerCase();
    if (name === 'ping' && source !== 'lua') {
      ended = true;
    } else if (!ended) {
      seen.push({ name, args: args.slice(1), source });
    }
  });
  try {
    await work();
    await client.ping();
    await eventually(() => ended);
  } finally {
    monitor.disconnect();
  }
  return seen;
}

/**
 * The commands clients sent while `work` ran, by name: those a script runs itself are not round
 * trips; TIME is the client's periodic clock sync (every 5 s, not per check).
 */
async function clientCommands(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const { name, source } of await monitored(work)) {
    if (source !== 'lua' && name !== 'time') {
      calls[name] = (calls[name] ?? 0) + 1;
    }
  }
  return calls;
}

/** Commands the server was sent for CHECKS checks of `subjects` under `scope`, warmed up first. */
async function commandsFor(
  subjects: string[],
  scope?: ScopeLevel[],
): Promise<Record<string, number>> {
  // Warm-up: scripts cached on the server, day and month counters seeded from the ledger.
  for (const subject of subjects) {
    allowed(await store.reserve({ ...request(subject, LIMITS), scope }));
  }
  return clientCommands(async () => {
    for (let i = 0; i < CHECKS; i++) {
      allowed(await store.reserve({ ...request(subjects[i % subjects.length]!, LIMITS), scope }));
    }
  });
}

describe('Redis round trips of a check', () => {
  it('a subject with no parent: exactly one command (the reserve script) per check', async () => {
    const users = ['rt-solo-a', 'rt-solo-b', 'rt-solo-c'];
    expect(await commandsFor(users)).toEqual({ evalsha: CHECKS });
  });

  it('a 3-level scope (user, team, org): one script per level', async () => {
    const scope = ['rt-team', 'rt-org'].map((subject) => ({
      subject,
      tier: 'team',
      limits: LIMITS,
    }));
    expect(await commandsFor(['rt-member-a', 'rt-member-b'], scope)).toEqual({
      evalsha: 3 * CHECKS,
    });
  });

  it('confirming a group commit of many subjects on one Redis: one script per 64 subjects', async () => {
    const subjects = Array.from({ length: 70 }, (_, i) => `rt-confirm-${i}`);
    for (const subject of subjects) {
      const id = allowed(await store.reserve(request(subject, LIMITS))).reservation.reservationId;
      settled(await store.commit(id, { promptTokens: 10, completionTokens: 5 }));
    }
    const pending = await store.pendingLedger(0);
    const mine = pending.filter((s) =>
      subjects.some((subject) =>
        s.reservationId.startsWith(Buffer.from(subject).toString('base64url') + '.'),
      ),
    );
    expect(mine).toHaveLength(70);
    // Warm-up: the script cached on the server by a first confirmation alone.
    await store.confirmLedgered(mine.slice(0, 1));
    const rest = mine.slice(1);
    expect(await clientCommands(() => store.confirmLedgered(rest))).toEqual({ evalsha: 2 });
    const left = await store.pendingLedger(0);
    expect(left.filter((s) => mine.some((m) => m.reservationId === s.reservationId))).toEqual([]);
  });

  it('a subject checked again within minutes: no PEXPIRE of its buckets or state, whose TTLs still cover the need', async () => {
    // The key suffixes (b, s, lease, r:<ref>) of the PEXPIREs the scripts ran during `work`.
    const scripted = async (work: () => Promise<unknown>): Promise<string[]> =>
      (await monitored(work))
        .filter(({ name, source }) => source === 'lua' && name === 'pexpire')
        .map(({ args }) => args[0]!.replace(/^.*:/, ''))
        .sort();
    const subject = 'rt-horizon';
    // First check: every key gets its expiry (buckets b, state s, lease, record r:<ref>).
    const first = await scripted(() => store.reserve(request(subject, LIMITS)));
    expect(first).toEqual(expect.arrayContaining(['b', 's', 'lease']));
    // The next ones: only the lease set and the new record.
    const again = await scripted(() => store.reserve(request(subject, LIMITS)));
    expect(again).toHaveLength(2);
    expect(again).toContain('lease');
    const keys = SubjectKeys.of('rt:', subject);
    const ttls = await Promise.all([admin.pttl(keys.buckets), admin.pttl(keys.state)]);
    // Buckets: the reservation's TTL (600 s) and a minute, plus 10 minutes of slack; state: the
    // TTL and two days.
    expect(ttls[0]).toBeGreaterThan(660_000);
    expect(ttls[0]).toBeLessThanOrEqual(1_260_000);
    expect(ttls[1]).toBeGreaterThan(600_000 + 86_400_000);
    expect(ttls[1]).toBeLessThanOrEqual(600_000 + 2 * 86_400_000);
  });
});
