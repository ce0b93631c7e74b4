import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { SubjectKeys } from '#budget';
import { deleteKeysUnder } from '../support/redis-keys.js';

let t: TestApp;
let tier: string;

/** Puts `subject` on `tierName` and waits until the service sees it (LISTEN/NOTIFY). */
async function assignTier(subject: string, tierName: string): Promise<void> {
  await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tierName]);
  await eventually(async () => {
    const reply = await t.request('GET', `/v1/subjects/${encodeURIComponent(subject)}/usage`);
    return reply.body.tier === tierName;
  });
}

/** A settlement's body without `limits`: the live state, which may have refilled since. */
const withoutLimits = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).filter(([name]) => name !== 'limits'));

const check = (subject: string, extra: Record<string, unknown> = {}) =>
  t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 100,
    max_tokens: 50,
    ...extra,
  });

beforeAll(async () => {
  t = await startTestApp();
  tier = unique('rpm10');
  await t.sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
     VALUES ($1, 10, 100000, NULL, 5)`,
    [tier],
  );
});

afterAll(async () => {
  await t?.close();
});

describe('the seed scenario: a tier of 10 requests per minute', () => {
  it('allows ten checks and refuses the eleventh with 429, Retry-After and the headers', async () => {
    const subject = unique('seed');
    await assignTier(subject, tier);
    for (let i = 1; i <= 10; i += 1) {
      const reply = await check(subject);
      expect(reply.status, `check ${i}`).toBe(200);
      expect(reply.body.allowed).toBe(true);
      expect(reply.headers.get('x-ratelimit-limit-requests')).toBe('10');
      expect(reply.headers.get('x-ratelimit-remaining-requests')).toBe(String(10 - i));
    }
    const refused = await check(subject);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      error: 'rate_limit_exceeded',
      dimension: 'requests',
      limit: 10,
      remaining: 0,
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(refused.body.retry_after_seconds).toBe(retryAfter);
    expect(String(refused.body.message)).toMatch(/retry in \d+ s\.$/);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(ms|s)$|m\d+s$/);
    expect(Number(refused.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(refused.headers.get('x-ratelimit-limit')).toBe('10');
  });

  it('keeps two subjects independent', async () => {
    const [a, b] = [unique('a'), unique('b')];
    await assignTier(a, tier);
    await assignTier(b, tier);
    for (let i = 0; i < 10; i += 1) {
      expect((await check(a)).status).toBe(200);
    }
    expect((await check(a)).status).toBe(429);
    expect((await check(b)).status).toBe(200);
  });

  it('never limits health', async () => {
    for (let i = 0; i < 30; i += 1) {
      const reply = await t.request('GET', '/healthz', undefined, { authorization: '' });
      expect(reply.status).toBe(200);
    }
  });
});

describe('reservation lifecycle over HTTP', () => {
  it('commits exactly once into the ledger and answers replays and conflicts', async () => {
    const subject = unique('life');
    const allowed = await check(subject, { max_tokens: 400 });
    expect(allowed.status).toBe(200);
    const id = String(allowed.body.reservation_id);
    const commit = { reservation_id: id, usage: { prompt_tokens: 100, completion_tokens: 40 } };

    const first = await t.request('POST', '/v1/commit', commit);
    expect(first.status).toBe(200);
    // gpt-4o-mini: 100 × $0.15/M + 40 × $0.60/M = $0.000039
    expect(first.body).toMatchObject({
      reservation_id: id,
      status: 'committed',
      cost_usd: '0.000039',
    });
    const again = await t.request('POST', '/v1/commit', commit);
    expect(again.status).toBe(200);
    expect(withoutLimits(again.body)).toEqual(withoutLimits(first.body));
    const refund = await t.request('POST', '/v1/refund', { reservation_id: id });
    expect(refund.status).toBe(409);
    expect(refund.body.error).toBe('reservation_conflict');

    const rows = await t.sql(
      'SELECT status, cost_usd::text AS cost FROM usage_ledger WHERE subject = $1',
      [subject],
    );
    expect(rows.rows).toEqual([{ status: 'committed', cost: '0.000039' }]);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.today).toMatchObject({
      cost_usd: '0.000039',
      requests: 1,
      prompt_tokens: 100,
      completion_tokens: 40,
    });
    expect(usage.body.in_flight).toEqual([]);
  });

  it('refunds everything, then refuses a commit with 409', async () => {
    const subject = unique('refund');
    const allowed = await check(subject);
    const id = String(allowed.body.reservation_id);
    const refund = await t.request('POST', '/v1/refund', {
      reservation_id: id,
      reason: 'upstream_error',
    });
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ status: 'refunded', cost_usd: '0.000000' });
    const commit = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    });
    expect(commit.status).toBe(409);
  });

  it('counts a completion given as text', async () => {
    const subject = unique('text');
    const allowed = await check(subject);
    const reply = await t.request('POST', '/v1/commit', {
      reservation_id: allowed.body.reservation_id,
      completion: 'Hello world',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 2,
      cached_tokens: 0,
    });
  });

  it('answers repeats from the ledger once the store has let the settled reservation go', async () => {
    const subject = unique('ledgered');
    const allowed = await check(subject);
    const id = String(allowed.body.reservation_id);
    const commit = { reservation_id: id, usage: { prompt_tokens: 100, completion_tokens: 40 } };
    const first = await t.request('POST', '/v1/commit', commit);
    expect(first.status).toBe(200);
    // What SETTLED_RETENTION_MS does once the ledger has the row: the store forgets the record.
    const records = SubjectKeys.of(t.keyPrefix, subject).record('');
    expect(await deleteKeysUnder(t.redisUrl, records)).toBe(1);

    const again = await t.request('POST', '/v1/commit', commit);
    expect(again.status).toBe(200);
    expect(withoutLimits(again.body)).toEqual(withoutLimits(first.body));
    expect(again.headers.get('x-ratelimit-limit-requests')).toBe('10');
    // The text counts other completion tokens than the first commit's: the first usage stands.
    const asText = await t.request('POST', '/v1/commit', { reservation_id: id, completion: 'Hi' });
    expect(asText.status).toBe(409);
    expect(asText.body).toMatchObject({ error: 'reservation_conflict' });
    const refund = await t.request('POST', '/v1/refund', { reservation_id: id });
    expect(refund.status).toBe(409);
    expect(refund.body).toMatchObject({ error: 'reservation_conflict' });
    expect(String(refund.body.message)).toContain('already committed');
    const rows = await t.sql('SELECT count(*)::int AS n FROM usage_ledger WHERE subject = $1', [
      subject,
    ]);
    expect(rows.rows).toEqual([{ n: 1 }]);
  });

  it('returns the same reservation for a retried check with the same idempotency key', async () => {
    const subject = unique('idem');
    const first = await check(subject, { idempotency_key: 'k1' });
    const second = await check(subject, { idempotency_key: 'k1' });
    expect(second.status).toBe(200);
    expect(second.body.reservation_id).toBe(first.body.reservation_id);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toHaveLength(1);
  });

  it('refuses a request larger than the bucket with exceeds_capacity and no Retry-After', async () => {
    const subject = unique('huge');
    const reply = await check(subject, { prompt_tokens: 50_000 });
    expect(reply.status).toBe(429);
    expect(reply.body.error).toBe('exceeds_capacity');
    expect(reply.body.dimension).toBe('tokens');
    expect(reply.headers.get('retry-after')).toBeNull();
    expect(reply.body.retry_after_seconds).toBeUndefined();
  });

  it('degrades to the largest completion that fits when min_max_tokens allows it', async () => {
    const subject = unique('degrade');
    // free tier: 10,000 tokens per minute.
    const reply = await check(subject, {
      prompt_tokens: 9000,
      max_tokens: 4000,
      min_max_tokens: 100,
    });
    expect(reply.status).toBe(200);
    expect(reply.body.granted_max_tokens).toBe(1000);
  });

  it('estimates without reserving', async () => {
    const subject = unique('estimate');
    const reply = await t.request('POST', '/v1/estimate', {
      subject,
      model: 'gpt-4o',
      prompt: 'Hello world',
      max_tokens: 10,
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      subject,
      tier: 'free',
      model: 'gpt-4o',
      requested_model: 'gpt-4o',
      estimate: { prompt_tokens: 2, completion_tokens: 10, cost_usd: '0.000105' },
    });
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
  });
});

describe('metrics', () => {
  const committed = async (): Promise<number> => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const match = /^token_budget_settlements_total\{status="committed"\} (\d+)/m.exec(text);
    return match ? Number(match[1]) : 0;
  };

  it('counts a decision and a settlement once, however often the commit is retried', async () => {
    const before = await committed();
    const allowed = await check(unique('metrics'));
    const commit = {
      reservation_id: allowed.body.reservation_id,
      usage: { prompt_tokens: 10, completion_tokens: 5 },
    };
    expect((await t.request('POST', '/v1/commit', commit)).status).toBe(200);
    expect((await t.request('POST', '/v1/commit', commit)).status).toBe(200);
    expect(await committed()).toBe(before + 1);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(
      /^token_budget_decisions_total\{outcome="allowed",dimension="",tier="free"\} \d+/m,
    );
    expect(text).toMatch(/^token_budget_tokens_total\{kind="refunded"\} \d+/m);
  });
});

describe('callers', () => {
  it('answers 401 with the error body without a key or with an unknown key', async () => {
    const none = await t.request('POST', '/v1/check', {}, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('unauthorized');
    const wrong = await t.request('GET', '/v1/subjects/x/usage', undefined, {
      authorization: 'Bearer tb_not_a_real_key_at_all',
    });
    expect(wrong.status).toBe(401);
    expect(typeof wrong.body.message).toBe('string');
  });

  it('keeps health, readiness and metrics open', async () => {
    const ready = await t.request('GET', '/readyz', undefined, { authorization: '' });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'ok',
      modes: { store: 'redis', database: 'postgres' },
    });
    const metrics = await fetch(`${t.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('token_budget_decisions_total');
  });
});
