import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import type { Requester } from '../support/http.client.js';
import { expectRefusal } from '../support/refusals.js';

/**
 * SPEC §4 "Reservations that are never settled": settled exactly once, even with several
 * instances, within expiry + 10 s; the lease ends; charged at the estimate or released.
 */

/** SPEC: settled within expiry + 10 s. The ledger write follows the settlement at once. */
const SETTLE_WITHIN_MS = 10_000;

let charge: TestApp;
let release: TestApp;
let tier: string;

// gpt-4o-mini: 1000 × $0.15/M + 500 × $0.60/M = $0.000450 per reservation.
const reserveBody = (subject: string) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 1000,
  max_tokens: 500,
  ttl_seconds: 1,
});

interface LedgerRow {
  reservation_id: string;
  status: string;
  prompt_tokens: number;
  completion_tokens: number;
  cost: string;
  tier: string;
  late_ms: number;
}

async function ledgerRows(t: TestApp, subject: string): Promise<LedgerRow[]> {
  const { rows } = await t.sql(
    `SELECT reservation_id, status, prompt_tokens, completion_tokens, cost_usd::text AS cost, tier,
            (extract(epoch FROM settled_at - reserved_at) * 1000)::int - 1000 AS late_ms
       FROM usage_ledger WHERE subject = $1 ORDER BY reservation_id`,
    [subject],
  );
  return rows as LedgerRow[];
}

/** Waits for `count` ledger rows of `subject`, at most until the last expiry + 10 s (+ slack). */
async function settledRows(t: TestApp, subject: string, count: number, lastExpiryMs: number) {
  let rows: LedgerRow[] = [];
  await eventually(
    async () => {
      rows = await ledgerRows(t, subject);
      expect(rows.length, 'reservations settled by expiry + 10 s').toBeGreaterThanOrEqual(count);
    },
    lastExpiryMs + SETTLE_WITHIN_MS + 1_000 - Date.now(),
    100,
  );
  return rows;
}

async function reserve(
  request: Requester,
  subject: string,
): Promise<{ id: string; expiresAt: number }> {
  const reply = await request('POST', '/v1/check', reserveBody(subject));
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { id: String(reply.body.reservation_id), expiresAt: Date.now() + 1_000 };
}

beforeAll(async () => {
  [charge, release] = await Promise.all([
    startTestApp(),
    startTestApp({ EXPIRED_RESERVATION_POLICY: 'release' }),
  ]);
  tier = await createTier(charge.sql, 'expiry', { maxConcurrent: 1, dailyCostLimitUsd: '1' });
});

afterAll(async () => {
  await Promise.all([charge?.close(), release?.close()]);
});

describe('a reservation never committed', () => {
  it('is charged at its estimate by default, its lease ends, and a late commit gets 409', async () => {
    const subject = await subjectOnTier(charge.sql, tier, [charge.request], 'expire_charge');
    const { id, expiresAt } = await reserve(charge.request, subject);
    // The lease is held: max_concurrent 1.
    expectRefusal(await charge.request('POST', '/v1/check', reserveBody(subject)), 'concurrent');

    const rows = await settledRows(charge, subject, 1, expiresAt);
    expect(rows).toEqual([
      {
        reservation_id: id,
        status: 'expired',
        prompt_tokens: 1000,
        completion_tokens: 500,
        cost: '0.000450',
        tier,
        late_ms: expect.any(Number) as number,
      },
    ]);
    expect(rows[0]!.late_ms).toBeLessThanOrEqual(SETTLE_WITHIN_MS);
    const daily = await charge.sql(
      `SELECT cost_usd::text AS cost, requests, prompt_tokens::int AS p, completion_tokens::int AS c
         FROM daily_usage WHERE subject = $1`,
      [subject],
    );
    expect(daily.rows).toEqual([{ cost: '0.000450', requests: 1, p: 1000, c: 500 }]);

    const usage = await charge.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
    expect(usage.body.today).toMatchObject({ cost_usd: '0.000450', requests: 1 });
    expect(usage.body.limits).toMatchObject({
      concurrent: { limit: 1, remaining: 1 },
      daily_cost: { remaining_usd: '0.999550' },
    });

    const late = await charge.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: { prompt_tokens: 1000, completion_tokens: 10 },
    });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'reservation_conflict', status: 'expired' });
    expect(String(late.body.message)).toMatch(/expired/);
    const lateRefund = await charge.request('POST', '/v1/refund', { reservation_id: id });
    expect(lateRefund.status).toBe(409);
    // Still one row, still the estimate.
    expect(await ledgerRows(charge, subject)).toEqual(rows);

    // The freed lease admits the next check.
    expect((await charge.request('POST', '/v1/check', reserveBody(subject))).status).toBe(200);
  });

  it('is recorded at zero cost with EXPIRED_RESERVATION_POLICY=release', async () => {
    const subject = await subjectOnTier(release.sql, tier, [release.request], 'expire_release');
    const { id, expiresAt } = await reserve(release.request, subject);

    const rows = await settledRows(release, subject, 1, expiresAt);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ reservation_id: id, status: 'expired', cost: '0.000000' });
    expect(rows[0]!.late_ms).toBeLessThanOrEqual(SETTLE_WITHIN_MS);

    const usage = await release.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
    expect(usage.body.today).toMatchObject({ cost_usd: '0.000000', requests: 0 });
    expect(usage.body.limits).toMatchObject({
      concurrent: { remaining: 1 },
      daily_cost: { remaining_usd: '1.000000' },
    });
    expect((await release.request('POST', '/v1/check', reserveBody(subject))).status).toBe(200);
  });
});

describe('two instances sharing one store', () => {
  let second: TestApp;

  beforeAll(async () => {
    second = await startTestApp({ REDIS_KEY_PREFIX: charge.keyPrefix });
  });

  afterAll(async () => {
    await second?.close();
  });

  it('settles each expired reservation exactly once, whichever instance sweeps it', async () => {
    const wide = await createTier(charge.sql, 'expiry_wide', { dailyCostLimitUsd: '1' });
    const subject = await subjectOnTier(
      charge.sql,
      wide,
      [charge.request, second.request],
      'expire_twice',
    );
    const made = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reserve(i % 2 === 0 ? charge.request : second.request, subject),
      ),
    );
    const lastExpiry = Math.max(...made.map((m) => m.expiresAt));

    const rows = await settledRows(charge, subject, made.length, lastExpiry);
    // Both sweepers keep running a few passes more: nothing may be settled twice meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(await ledgerRows(charge, subject)).toEqual(rows);
    expect(rows.map((r) => r.reservation_id)).toEqual(made.map((m) => m.id).sort());
    expect(rows.every((r) => r.status === 'expired' && r.cost === '0.000450')).toBe(true);

    // The day's money counts each once: in the ledger totals and in the live counter.
    const daily = await charge.sql(
      'SELECT cost_usd::text AS cost, requests FROM daily_usage WHERE subject = $1',
      [subject],
    );
    expect(daily.rows).toEqual([{ cost: '0.009000', requests: 20 }]);
    for (const app of [charge, second]) {
      const usage = await app.request('GET', `/v1/subjects/${subject}/usage`);
      expect(usage.body.in_flight).toEqual([]);
      expect(usage.body.limits).toMatchObject({ daily_cost: { remaining_usd: '0.991000' } });
    }
  });
});
