import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import type { Reply } from '../support/http.client.js';
import { PostgresProxy } from '../ledger/ledger.helpers.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §7 "Postgres unreachable (refused or silent)", through a TCP proxy in front of Postgres
 * (for the app only; the test's own SQL goes direct):
 * - a Postgres error is never taken for a Redis outage: the instance keeps deciding on Redis;
 * - checks go on from cached key verdicts, tiers and Redis counters, without waiting on
 *   Postgres; only a check that needs a committed cost not yet in Redis is a 503
 *   ledger_unavailable, never a 500;
 * - commits answer 503 ledger_unavailable within 2 s, and are not lost: once Postgres is back
 *   each reaches the ledger exactly once, retried or not;
 * - the usage endpoint answers 503, not 500;
 * - a silent Postgres under concurrent commits: each answers 503 within 2 s of its arrival, also
 *   one that queued behind ledger writes stuck on the dead connection.
 */

const ANSWER_WITHIN_MS = 2_000;
/** A check waits on nothing: well under Postgres's connect timeout (3 s). */
const CHECK_WITHIN_MS = 1_000;
/** The sweeper re-appends settlements unconfirmed for 10 s, every 4 s. */
const REAPPEND_WITHIN_MS = 20_000;

let proxy: PostgresProxy;
let t: TestApp;
let known: string;
const usage = { prompt_tokens: 1000, completion_tokens: 100 };

async function timed(within: number, call: () => Promise<Reply>): Promise<Reply> {
  const started = performance.now();
  const reply = await call();
  expect(performance.now() - started, JSON.stringify(reply.body)).toBeLessThan(within);
  return reply;
}

const check = (subject: string): Promise<Reply> =>
  t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 1000,
    max_tokens: 200,
  });

const ledgerCount = async (ids: string[]): Promise<number> =>
  (await t.sql('SELECT count(*)::int AS n FROM usage_ledger WHERE reservation_id = ANY($1)', [ids]))
    .rows[0].n as number;

let tier: string;

beforeAll(async () => {
  proxy = new PostgresProxy(new URL(testEnv().databaseUrl));
  await proxy.start();
  t = await startTestApp({ DATABASE_URL: proxy.url, REDIS_FAILURE_MODE: 'local' });
  tier = await createTier(t.sql, 'pg_faults', { requestsPerMinute: 1000, dailyCostLimitUsd: '5' });
  known = await subjectOnTier(t.sql, tier, [t.request], 'pg_known');
});

afterAll(async () => {
  await proxy?.start().catch(() => undefined);
  await t?.close();
  await proxy?.stop();
});

/** A subject on the tier whose day is not in Redis yet (the app has the row: catalogue). */
async function newSubject(prefix: string): Promise<string> {
  return subjectOnTier(t.sql, tier, [t.request], prefix);
}

async function during(kind: 'refused' | 'silent'): Promise<string[]> {
  const fresh = await newSubject(`pg_new_${kind}`);
  const held = await check(known); // seeds today's cost of `known` into Redis
  expect(held.status).toBe(200);
  if (kind === 'refused') {
    await proxy.stop();
  } else {
    proxy.hang();
  }
  // Past the key verdicts' refresh period: every verdict now comes from the last good read.
  await new Promise((resolve) => setTimeout(resolve, 1_500));

  const reserved: string[] = [];
  for (let i = 0; i < 3; i++) {
    const reply = await timed(CHECK_WITHIN_MS, () => check(known));
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    reserved.push(String(reply.body.reservation_id));
  }
  const needsLedger = await timed(ANSWER_WITHIN_MS, () => check(fresh));
  expect(needsLedger.status, JSON.stringify(needsLedger.body)).toBe(503);
  expect(needsLedger.body.error).toBe('ledger_unavailable');
  // Still decided on Redis, not in the local fallback: Postgres was not taken for Redis.
  const ready = await timed(ANSWER_WITHIN_MS, () => t.request('GET', '/readyz'));
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({
    status: 'degraded',
    checks: { store: 'up', database: 'down' },
    modes: { decisions: 'redis' },
  });
  const after = await timed(CHECK_WITHIN_MS, () => check(known));
  expect(after.status, JSON.stringify(after.body)).toBe(200);
  reserved.push(String(after.body.reservation_id));

  const settle = [String(held.body.reservation_id), ...reserved];
  for (const id of settle) {
    const commit = await timed(ANSWER_WITHIN_MS, () =>
      t.request('POST', '/v1/commit', { reservation_id: id, usage }),
    );
    expect(commit.status, JSON.stringify(commit.body)).toBe(503);
    expect(commit.body.error).toBe('ledger_unavailable');
  }
  const view = await timed(ANSWER_WITHIN_MS, () =>
    t.request('GET', `/v1/subjects/${encodeURIComponent(known)}/usage`),
  );
  expect(view.status, JSON.stringify(view.body)).toBe(503);
  expect(view.body.error).toBe('ledger_unavailable');
  return settle;
}

async function recover(settled: string[]): Promise<void> {
  // Back: every pooled connection is cut (a silent one would never answer), new ones forward.
  await proxy.stop();
  await proxy.start();
  // Nobody retries: the sweeper re-appends each commit answered 503, exactly once.
  await eventually(async () => (await ledgerCount(settled)) === settled.length, REAPPEND_WITHIN_MS);
  for (const id of settled) {
    const retry = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
  }
  const rows = await t.sql(
    'SELECT reservation_id, count(*)::int AS n FROM usage_ledger WHERE reservation_id = ANY($1) GROUP BY 1',
    [settled],
  );
  expect(rows.rows.length).toBe(settled.length);
  expect(rows.rows.every((row: { n: number }) => row.n === 1)).toBe(true);
}

describe('Postgres unreachable for the service', () => {
  it('refused: checks go on from Redis, never a 500, commits 503 and later exactly once', async () => {
    await recover(await during('refused'));
  }, 60_000);

  it('silent (black-holed): no request waits on it', async () => {
    await recover(await during('silent'));
  }, 60_000);

  it('silent, under concurrent commits: each answers 503 within 2 s of its arrival', async () => {
    const reserved: string[] = [];
    for (let i = 0; i < 24; i++) {
      const reply = await check(known);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      reserved.push(String(reply.body.reservation_id));
    }
    proxy.hang();
    // Waves of commits while the first ones' ledger writes hang: later waves queue behind them.
    const commit = async (id: string): Promise<{ reply: Reply; ms: number }> => {
      const started = performance.now();
      const reply = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
      return { reply, ms: performance.now() - started };
    };
    const answers: Promise<{ reply: Reply; ms: number }>[] = [];
    for (let wave = 0; wave < 4; wave++) {
      answers.push(...reserved.slice(wave * 6, wave * 6 + 6).map(commit));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const settled = await Promise.all(answers);
    for (const { reply, ms } of settled) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(503);
      expect(reply.body.error).toBe('ledger_unavailable');
      expect(ms, JSON.stringify(reply.body)).toBeLessThan(ANSWER_WITHIN_MS);
    }
    await recover(reserved);
  }, 60_000);
});
