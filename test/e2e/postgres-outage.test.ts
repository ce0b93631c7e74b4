import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import { testEnv } from '../support/test-env.js';
import { PostgresProxy } from '../ledger/ledger.helpers.js';
import { deleteKeysUnder } from '../support/redis-keys.js';
import { SubjectKeys } from '#budget';

/**
 * SPEC §7 "Postgres unreachable": checks go on; a commit whose ledger row cannot be made durable
 * is never answered 200 (503 ledger_unavailable); once Postgres is back the settlement reaches
 * the ledger exactly once, by the caller's retry or by the sweeper's re-append. Postgres is made
 * unreachable for the app only, through a TCP proxy; the test's own SQL goes direct.
 */

/** SettlementSweeper re-appends settlements unconfirmed for 10 s, sweeping every 2 s. */
const REAPPEND_WITHIN_MS = 10_000 + 2_000 + 3_000;

let proxy: PostgresProxy;
let t: TestApp;
let subject: string;

// gpt-4o-mini: 1000 × $0.15/M + 100 × $0.60/M = $0.000210.
const usage = { prompt_tokens: 1000, completion_tokens: 100 };

const reserve = async (): Promise<string> => {
  const reply = await t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 1000,
    max_tokens: 200,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return String(reply.body.reservation_id);
};

const ledgerRows = async (reservationId: string) =>
  (
    await t.sql(
      'SELECT status, cost_usd::text AS cost FROM usage_ledger WHERE reservation_id = $1',
      [reservationId],
    )
  ).rows;

const dailyRow = async () =>
  (
    await t.sql('SELECT cost_usd::text AS cost, requests FROM daily_usage WHERE subject = $1', [
      subject,
    ])
  ).rows;

beforeAll(async () => {
  proxy = new PostgresProxy(new URL(testEnv().databaseUrl));
  await proxy.start();
  t = await startTestApp({ DATABASE_URL: proxy.url });
  const tier = await createTier(t.sql, 'pg_outage', {
    requestsPerMinute: 100,
    dailyCostLimitUsd: '1',
  });
  subject = await subjectOnTier(t.sql, tier, [t.request], 'pg_outage');
});

afterAll(async () => {
  // Back up first, so the app's shutdown can flush and close cleanly.
  await proxy?.start().catch(() => undefined);
  await t?.close();
  await proxy?.stop();
});

describe('Postgres unreachable for the service', () => {
  it('never answers a commit 200 until its ledger row is durable, then records it exactly once', async () => {
    const retried = await reserve();
    const abandoned = await reserve();
    // Those checks seeded today's counter from Postgres; now the app loses it.
    await proxy.stop();

    // Checks go on from the cached catalogue and Redis.
    const during = await reserve();
    for (const id of [retried, abandoned]) {
      const commit = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
      expect(commit.status, JSON.stringify(commit.body)).toBe(503);
      expect(commit.body.error).toBe('ledger_unavailable');
      expect(await ledgerRows(id)).toEqual([]);
    }
    const refund = await t.request('POST', '/v1/refund', { reservation_id: during });
    expect(refund.status).toBe(503);
    expect(refund.body.error).toBe('ledger_unavailable');

    await proxy.start();
    const settledAt = Date.now();

    // The caller retries: the same settlement, answered 200 once durable.
    const retry = await t.request('POST', '/v1/commit', { reservation_id: retried, usage });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body).toMatchObject({ status: 'committed', cost_usd: '0.000210' });
    expect(await ledgerRows(retried)).toEqual([{ status: 'committed', cost: '0.000210' }]);

    // Nobody retries the other two: the sweeper re-appends them from the pending settlements.
    await eventually(
      async () => (await ledgerRows(abandoned)).length > 0 && (await ledgerRows(during)).length > 0,
      REAPPEND_WITHIN_MS - (Date.now() - settledAt),
    );
    expect(await ledgerRows(abandoned)).toEqual([{ status: 'committed', cost: '0.000210' }]);
    expect(await ledgerRows(during)).toEqual([{ status: 'refunded', cost: '0.000000' }]);

    // A late retry of each changes nothing: still one row each, the day counted once.
    const lateCommit = await t.request('POST', '/v1/commit', { reservation_id: abandoned, usage });
    expect(lateCommit.status).toBe(200);
    const lateRefund = await t.request('POST', '/v1/refund', { reservation_id: during });
    expect(lateRefund.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // one more sweep
    const rows = await t.sql(
      'SELECT count(*)::int AS n FROM usage_ledger WHERE reservation_id = ANY($1)',
      [[retried, abandoned, during]],
    );
    expect(rows.rows).toEqual([{ n: 3 }]);
    expect(await dailyRow()).toEqual([{ cost: '0.000420', requests: 2 }]);
    const today = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(today.body.today).toMatchObject({ cost_usd: '0.000420', requests: 2 });
    expect(today.body.in_flight).toEqual([]);
  }, 60_000);

  it('answers 503, not 404, for a settlement only the ledger still holds while it is unreachable', async () => {
    const id = await reserve();
    const first = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(first.status).toBe(200);
    // The store has let the settled reservation go (SETTLED_RETENTION_MS), only the ledger knows it.
    const record = SubjectKeys.of(t.keyPrefix, subject).record(id.slice(id.lastIndexOf('.') + 1));
    expect(await deleteKeysUnder(t.redisUrl, record)).toBe(1);

    await proxy.stop();
    const during = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(during.status, JSON.stringify(during.body)).toBe(503);
    expect(during.body.error).toBe('ledger_unavailable');

    await proxy.start();
    const after = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect(after.body).toMatchObject({ status: 'committed', cost_usd: '0.000210' });
  }, 30_000);
});
