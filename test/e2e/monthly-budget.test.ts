import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

/** A subject on a fresh tier with only a monthly limit, once the service sees both rows. */
async function subjectWithMonthlyLimit(limitUsd: string): Promise<string> {
  const tier = unique('monthly');
  const subject = unique('m');
  await t.sql(`INSERT INTO tiers (name, monthly_cost_limit_usd) VALUES ($1, $2)`, [tier, limitUsd]);
  await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tier]);
  await eventually(async () => {
    const reply = await t.request('GET', `/v1/subjects/${subject}/usage`);
    return reply.body.tier === tier;
  });
  return subject;
}

describe('monthly budgets over HTTP', () => {
  it('shows monthly_cost, counts the ledger month, and refuses with monthly_budget_exceeded', async () => {
    const subject = await subjectWithMonthlyLimit('0.010000');
    const month = new Date().toISOString().slice(0, 7);
    // Spent earlier this month (an earlier day's row when there is one, else today's).
    const day = new Date().getUTCDate() > 1 ? `${month}-01` : new Date().toISOString().slice(0, 10);
    await t.sql(
      `INSERT INTO daily_usage (subject, day, cost_usd, requests, prompt_tokens, completion_tokens)
       VALUES ($1, $2::date, 0.008, 4, 1000, 200)`,
      [subject, day],
    );
    // gpt-4o-mini: 0.15 $/Mtok in, 0.60 $/Mtok out: 1000 + 1000 tokens = 0.000750.
    const ok = await t.request('POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 1000,
      max_tokens: 1000,
    });
    expect(ok.status).toBe(200);
    const nextMonth = new Date(
      Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1),
    );
    expect(ok.body.limits).toEqual({
      monthly_cost: {
        limit_usd: '0.010000',
        remaining_usd: '0.001250',
        reset_at: nextMonth.toISOString().replace('.000Z', 'Z'),
      },
    });

    const no = await t.request('POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 1000,
      max_tokens: 2000,
    });
    expect(no.status).toBe(429);
    expect(no.body).toMatchObject({
      error: 'monthly_budget_exceeded',
      dimension: 'monthly_cost',
      limit: '0.010000',
      remaining: '0.001250',
    });
    expect(String(no.body.message)).toMatch(/^Monthly budget exceeded: \$0\.008750 of \$0\.010000/);
    expect(Number(no.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const done = await t.request('POST', '/v1/commit', {
      reservation_id: ok.body.reservation_id,
      usage: { prompt_tokens: 1000, completion_tokens: 500 },
    });
    expect(done.status).toBe(200);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.month).toEqual({
      month,
      cost_usd: '0.008450',
      requests: 5,
      prompt_tokens: 2000,
      completion_tokens: 700,
    });
    expect(usage.body.limits).toMatchObject({ monthly_cost: { remaining_usd: '0.001550' } });
  });

  it('refuses a negative or over-precise monthly limit in SQL', async () => {
    await expect(
      t.sql(`INSERT INTO tiers (name, monthly_cost_limit_usd) VALUES ($1, -1)`, [unique('bad')]),
    ).rejects.toThrow(/ck_tiers_monthly_cost_limit_usd/);
    await expect(
      t.sql(`INSERT INTO tiers (name, monthly_cost_limit_usd) VALUES ($1, 0.0000001)`, [
        unique('bad'),
      ]),
    ).rejects.toThrow(/ck_tiers_monthly_cost_limit_usd/);
  });
});
