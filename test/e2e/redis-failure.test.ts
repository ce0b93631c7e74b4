import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import type { Reply } from '../support/http.client.js';
import { SubjectKeys } from '#budget';
import { keysUnder } from '../support/redis-keys.js';
import { ThrowawayRedis } from '../support/redis-server.js';
import { expectRefusal } from '../support/refusals.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §7 "Redis unreachable": no request hangs; REDIS_FAILURE_MODE decides locally (local),
 * allows (open) or refuses with 503 (closed); when Redis returns the service goes back on its
 * own. One throwaway redis-server (killed and restarted here), three instances sharing its keys.
 */

/** "No request hangs": every answer while Redis is down comes within this. */
const ANSWER_WITHIN_MS = 2_000;

let redis: ThrowawayRedis | undefined;
const apps: TestApp[] = [];
let local: TestApp;
let closed: TestApp;
let open: TestApp;
let keyPrefix: string;
const subjects: Record<'shared' | 'local' | 'open' | 'back', string> = {
  shared: '',
  local: '',
  open: '',
  back: '',
};
/** A reservation made locally while Redis was down, committed after it returned. */
let heldDuringOutage = '';

const body = (subject: string) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 1000,
  max_tokens: 100,
});

async function timed(call: () => Promise<Reply>): Promise<Reply> {
  const started = performance.now();
  const reply = await call();
  expect(performance.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
  return reply;
}

const check = (app: TestApp, subject: string) =>
  timed(() => app.request('POST', '/v1/check', body(subject)));

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  keyPrefix = testEnv().keyPrefix;
  for (const mode of ['local', 'closed', 'open']) {
    apps.push(
      await startTestApp({
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: keyPrefix,
        REDIS_FAILURE_MODE: mode,
      }),
    );
  }
  [local, closed, open] = apps as [TestApp, TestApp, TestApp];
  const tier = await createTier(local.sql, 'rpm3', {
    requestsPerMinute: 3,
    dailyCostLimitUsd: '1',
  });
  const requesters = apps.map((app) => app.request);
  for (const name of Object.keys(subjects) as (keyof typeof subjects)[]) {
    subjects[name] = await subjectOnTier(local.sql, tier, requesters, `redis_${name}`);
  }
});

afterAll(async () => {
  await Promise.allSettled(apps.map((app) => app.close()));
  await redis?.kill();
});

describe('Redis up, then killed, then back', () => {
  it('while Redis is up, the three instances share one budget', async () => {
    for (const app of apps) {
      expect((await check(app, subjects.shared)).status).toBe(200);
    }
    expectRefusal(await check(local, subjects.shared), 'requests');
    const ready = await local.request('GET', '/readyz');
    expect(ready.status).toBe(200);
  });

  it('local: decides in process, answers at once, and commits reach the ledger', async () => {
    await redis!.kill();

    const replies: Reply[] = [];
    for (let i = 0; i < 5; i++) {
      replies.push(await check(local, subjects.local));
    }
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 429, 429]);
    expectRefusal(replies[3]!, 'requests');

    const id = String(replies[0]!.body.reservation_id);
    const commit = await timed(() =>
      local.request('POST', '/v1/commit', {
        reservation_id: id,
        usage: { prompt_tokens: 1000, completion_tokens: 50 },
      }),
    );
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    // 1000 × $0.15/M + 50 × $0.60/M
    expect(commit.body).toMatchObject({ status: 'committed', cost_usd: '0.000180' });
    const rows = await local.sql(
      'SELECT status, cost_usd::text AS cost FROM usage_ledger WHERE reservation_id = $1',
      [id],
    );
    expect(rows.rows).toEqual([{ status: 'committed', cost: '0.000180' }]);
    heldDuringOutage = String(replies[1]!.body.reservation_id);

    // Still deciding (locally): 200 "degraded", so a load balancer keeps the instance (SPEC §4).
    const ready = await timed(() => local.request('GET', '/readyz'));
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      checks: { store: 'down', database: 'up' },
      modes: { store: 'redis', decisions: 'local_fallback' },
    });
    const openReady = await timed(() => open.request('GET', '/readyz'));
    expect(openReady.status).toBe(200);
    expect(openReady.body).toMatchObject({ status: 'degraded' });
  });

  it('closed: refuses with 503 and the error body', async () => {
    const reply = await check(closed, subjects.local);
    expect(reply.status).toBe(503);
    expect(reply.body.error).toBe('store_unavailable');
    expect(String(reply.body.message)).toMatch(/Redis/);
    // It cannot decide checks: out of the load balancer.
    const ready = await timed(() => closed.request('GET', '/readyz'));
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not_ready', checks: { store: 'down' } });
  });

  it('open: allows, beyond the limits', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await check(open, subjects.open);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    }
  });

  it('when Redis returns, every instance decides on it again, on its own', async () => {
    await redis!.start();
    for (const app of apps) {
      // "ok" only once decisions are back on Redis (never while still deciding in the fallback).
      await eventually(async () => {
        const ready = await app.request('GET', '/readyz');
        if (ready.body.status !== 'ok') {
          return false;
        }
        expect(ready.body).toMatchObject({ modes: { decisions: 'redis' } });
        return true;
      }, 10_000);
    }
    // An instance that saw Redis fail retries it at most once a second (FailoverBudgetStore).
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    // Back on the shared store: three requests per minute for all instances together.
    await eventually(async () => (await check(closed, subjects.back)).status === 200, 5_000);
    expect((await check(open, subjects.back)).status).toBe(200);
    expect((await check(local, subjects.back)).status).toBe(200);
    for (const app of apps) {
      expectRefusal(await check(app, subjects.back), 'requests');
    }
    const keys = await keysUnder(redis!.url, keyPrefix);
    const back = SubjectKeys.of(keyPrefix, subjects.back);
    expect(keys.some((key) => key.startsWith(back.base))).toBe(true);

    // A reservation made locally during the outage still settles, once.
    const commit = await local.request('POST', '/v1/commit', {
      reservation_id: heldDuringOutage,
      usage: { prompt_tokens: 1000, completion_tokens: 100 },
    });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    const rows = await local.sql(
      'SELECT status, cost_usd::text AS cost FROM usage_ledger WHERE reservation_id = $1',
      [heldDuringOutage],
    );
    expect(rows.rows).toEqual([{ status: 'committed', cost: '0.000210' }]);
  });
});
