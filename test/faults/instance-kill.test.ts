import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubjectKeys } from '#budget';
import { httpClient } from '../support/http.client.js';
import { eventually, unique } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §7 "A killed instance (SIGKILL) loses no acknowledged commit, and its reservations are
 * settled by expiry": two service processes share Redis and Postgres; one is SIGKILLed while it
 * holds reservations. Every commit answered 200 by either is in the ledger exactly once; a
 * reservation the killed one issued is committed on the other; the rest are settled `expired`
 * once, within expiry + 10 s, by the survivor's sweep; no lease is left.
 */

const TTL_SECONDS = 2;
/** SPEC §4: settled within expiry + 10 s. */
const SETTLED_WITHIN_MS = (TTL_SECONDS + 10) * 1000;
const key = `tb_kill_${unique('k')}_0123456789`;

let sql: pg.Pool;
let survivor: ServiceProcess;
let killed: ServiceProcess;
let keyPrefix: string;
let redisUrl: string;
let subject: string;

const post = (instance: ServiceProcess, path: string, body: unknown) =>
  httpClient(instance.url, key)('POST', path, body);

async function check(instance: ServiceProcess, ttlSeconds: number): Promise<string> {
  const reply = await post(instance, '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 500,
    max_tokens: 50,
    ttl_seconds: ttlSeconds,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return String(reply.body.reservation_id);
}

async function commit(instance: ServiceProcess, id: string): Promise<void> {
  const reply = await post(instance, '/v1/commit', {
    reservation_id: id,
    usage: { prompt_tokens: 500, completion_tokens: 20 },
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
}

beforeAll(async () => {
  const env = testEnv();
  keyPrefix = env.keyPrefix;
  redisUrl = env.redisUrl;
  sql = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  const tier = unique('kill');
  subject = unique('kill_subject');
  await sql.query(
    'INSERT INTO tiers (name, requests_per_minute, tokens_per_minute) VALUES ($1, 10000, 10000000)',
    [tier],
  );
  await sql.query('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tier]);
  const service = {
    REDIS_URL: redisUrl,
    DATABASE_URL: env.databaseUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    EXPIRED_RESERVATION_POLICY: 'charge',
    BOOTSTRAP_API_KEY: key,
  };
  [survivor, killed] = await Promise.all([
    startServiceProcess(service),
    startServiceProcess(service),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([survivor?.stop(), killed?.stop()]);
  await sql?.end();
});

describe('one of two instances SIGKILLed while it holds reservations', () => {
  it('loses no acknowledged commit and settles its reservations by expiry, once', async () => {
    const acknowledged: string[] = [];
    for (const instance of [survivor, killed, survivor, killed]) {
      const id = await check(instance, 60);
      await commit(instance, id);
      acknowledged.push(id);
    }
    const held = [
      await check(killed, TTL_SECONDS),
      await check(killed, TTL_SECONDS),
      await check(killed, TTL_SECONDS),
    ];
    const committedElsewhere = await check(killed, 60);

    killed.child.kill('SIGKILL');
    const killedAt = Date.now();
    await new Promise((resolve) => killed.child.once('exit', resolve));

    // A reservation the killed instance issued is committed on the survivor.
    await commit(survivor, committedElsewhere);
    acknowledged.push(committedElsewhere);

    const rows = async (ids: string[]) =>
      (
        await sql.query(
          `SELECT reservation_id, status, count(*) OVER (PARTITION BY reservation_id)::int AS n
             FROM usage_ledger WHERE reservation_id = ANY($1)`,
          [ids],
        )
      ).rows as { reservation_id: string; status: string; n: number }[];
    await eventually(async () => (await rows(held)).length === held.length, SETTLED_WITHIN_MS, 200);
    expect(Date.now() - killedAt).toBeLessThan(SETTLED_WITHIN_MS);
    expect((await rows(held)).map(({ status, n }) => ({ status, n }))).toEqual(
      held.map(() => ({ status: 'expired', n: 1 })),
    );
    expect((await rows(acknowledged)).map(({ status, n }) => ({ status, n }))).toEqual(
      acknowledged.map(() => ({ status: 'committed', n: 1 })),
    );

    // No lease left behind.
    const redis = new Redis(redisUrl);
    try {
      expect(await redis.zcard(SubjectKeys.of(keyPrefix, subject).leases)).toBe(0);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
