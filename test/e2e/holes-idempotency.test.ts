import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';

/** SPEC §4: a retried check answers the same for a day; a repeated commit must repeat its usage. */
let t: TestApp;
let tier: string;

const body = (subject: string, extra: Record<string, unknown> = {}) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 100,
  max_tokens: 50,
  ...extra,
});

async function metric(pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

async function onTier(subject: string): Promise<void> {
  await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tier]);
  await eventually(async () => {
    const reply = await t.request('GET', `/v1/subjects/${subject}/usage`);
    return reply.body.tier === tier;
  });
}

beforeAll(async () => {
  t = await startTestApp();
  tier = unique('idem');
  await t.sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, daily_cost_limit_usd)
     VALUES ($1, 100, 100000, 5)`,
    [tier],
  );
});

afterAll(async () => {
  await t?.close();
});

describe('a retried check with its idempotency key', () => {
  it('answers the same reservation after it was committed: no new reservation, no charge', async () => {
    const subject = unique('idem-settled');
    await onTier(subject);
    const decisions = new RegExp(
      `^token_budget_decisions_total\\{outcome="allowed",dimension="",tier="${tier}"\\} (\\d+)`,
      'm',
    );
    const reserved = /^token_budget_tokens_total\{kind="reserved"\} (\d+)/m;
    const first = await t.request('POST', '/v1/check', body(subject, { idempotency_key: 'k1' }));
    expect(first.status).toBe(200);
    const [decisionsAfterFirst, reservedAfterFirst] = [
      await metric(decisions),
      await metric(reserved),
    ];
    expect(decisionsAfterFirst).toBe(1);
    const commit = {
      reservation_id: first.body.reservation_id,
      usage: { prompt_tokens: 100, completion_tokens: 20 },
    };
    expect((await t.request('POST', '/v1/commit', commit)).status).toBe(200);

    // Keys reordered: still the same body.
    const retry = await t.request('POST', '/v1/check', {
      idempotency_key: 'k1',
      ...Object.fromEntries(Object.entries(body(subject)).reverse()),
    });
    expect(retry.status).toBe(200);
    expect(retry.body.reservation_id).toBe(first.body.reservation_id);
    expect(retry.body.estimate).toEqual(first.body.estimate);
    expect(retry.body.expires_at).toBe(first.body.expires_at);
    // 100 requests a minute: one taken, none by the replay.
    expect(retry.headers.get('x-ratelimit-remaining-requests')).toBe('99');

    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
    expect(usage.body.today).toMatchObject({
      requests: 1,
      prompt_tokens: 100,
      completion_tokens: 20,
    });
    const rows = await t.sql('SELECT count(*)::int AS n FROM usage_ledger WHERE subject = $1', [
      subject,
    ]);
    expect(rows.rows).toEqual([{ n: 1 }]);
    // A replay is not a decision.
    expect(await metric(decisions)).toBe(decisionsAfterFirst);
    expect(await metric(reserved)).toBe(reservedAfterFirst);
  });

  it('refuses the same key with another body with 409 idempotency_key_reused', async () => {
    const subject = unique('idem-reused');
    await onTier(subject);
    const first = await t.request('POST', '/v1/check', body(subject, { idempotency_key: 'k2' }));
    expect(first.status).toBe(200);
    const other = await t.request(
      'POST',
      '/v1/check',
      body(subject, { idempotency_key: 'k2', max_tokens: 60 }),
    );
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('idempotency_key_reused');
    expect(typeof other.body.message).toBe('string');
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toHaveLength(1);
  });
});

describe('a repeated commit', () => {
  it('answers 200 for the same usage and 409 reservation_conflict for another', async () => {
    const subject = unique('commit-twice');
    await onTier(subject);
    const checked = await t.request('POST', '/v1/check', body(subject));
    const commit = (completion: number) =>
      t.request('POST', '/v1/commit', {
        reservation_id: checked.body.reservation_id,
        usage: { prompt_tokens: 100, completion_tokens: completion },
      });
    const first = await commit(20);
    expect(first.status).toBe(200);
    const same = await commit(20);
    expect(same.status).toBe(200);
    expect(same.body.cost_usd).toBe(first.body.cost_usd);
    const other = await commit(30);
    expect(other.status).toBe(409);
    expect(other.body.error).toBe('reservation_conflict');
    expect(String(other.body.message)).toContain('20 completion tokens');
    const rows = await t.sql(
      'SELECT completion_tokens FROM usage_ledger WHERE reservation_id = $1',
      [checked.body.reservation_id],
    );
    expect(rows.rows).toEqual([{ completion_tokens: 20 }]);
  });
});
