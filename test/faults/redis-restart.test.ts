import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import { ThrowawayRedis } from '../support/redis-server.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §7: while Redis is unreachable a commit or refund is a 503 store_unavailable, never a 404
 * "never issued" (also when the commit sends `completion` text, which needs the reservation);
 * once Redis is back but empty (restarted, or failed over and lost writes), a reservation this
 * service issued is settled into the ledger from its signed id, with its real usage, exactly
 * once; an altered id is refused.
 */

let redis: ThrowawayRedis;
let t: TestApp;
let subject: string;

const check = async (maxTokens = 100): Promise<string> => {
  const reply = await t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 1000,
    max_tokens: maxTokens,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return String(reply.body.reservation_id);
};

const rows = async (id: string) =>
  (
    await t.sql(
      `SELECT status, prompt_tokens, completion_tokens, cost_usd::text AS cost
         FROM usage_ledger WHERE reservation_id = $1`,
      [id],
    )
  ).rows;

beforeAll(async () => {
  redis = await ThrowawayRedis.start();
  t = await startTestApp({
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: testEnv().keyPrefix,
    REDIS_FAILURE_MODE: 'local',
  });
  const tier = await createTier(t.sql, 'restart', {
    requestsPerMinute: 100,
    dailyCostLimitUsd: '5',
  });
  subject = await subjectOnTier(t.sql, tier, [t.request], 'restart');
});

afterAll(async () => {
  await t?.close();
  await redis?.kill();
});

describe('Redis killed, then restarted empty', () => {
  const usage = { prompt_tokens: 1000, completion_tokens: 50 };
  let committed = '';
  let refunded = '';
  let counted = '';

  it('answers 503 store_unavailable, never 404, while Redis is unreachable', async () => {
    committed = await check();
    refunded = await check();
    counted = await check();
    await redis.kill();

    const withText = await t.request('POST', '/v1/commit', {
      reservation_id: counted,
      completion: 'Hello there, how are you today?',
    });
    expect(withText.status, JSON.stringify(withText.body)).toBe(503);
    expect(withText.body.error).toBe('store_unavailable');
    const withUsage = await t.request('POST', '/v1/commit', { reservation_id: committed, usage });
    expect(withUsage.status, JSON.stringify(withUsage.body)).toBe(503);
    expect(withUsage.body.error).toBe('store_unavailable');
    const refund = await t.request('POST', '/v1/refund', { reservation_id: refunded });
    expect(refund.status).toBe(503);
    expect(refund.body.error).toBe('store_unavailable');
  });

  it('settles each reservation from its signed id once Redis is back empty, exactly once', async () => {
    await redis.start();
    await eventually(async () => (await t.request('GET', '/readyz')).body.status === 'ok', 10_000);

    const commit = await t.request('POST', '/v1/commit', { reservation_id: committed, usage });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    // 1000 × $0.15/M + 50 × $0.60/M
    expect(commit.body).toMatchObject({ status: 'committed', cost_usd: '0.000180' });
    expect(await rows(committed)).toEqual([
      { status: 'committed', prompt_tokens: 1000, completion_tokens: 50, cost: '0.000180' },
    ]);
    const again = await t.request('POST', '/v1/commit', { reservation_id: committed, usage });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'committed', cost_usd: '0.000180' });
    // Another usage later changes nothing: the first usage stands.
    await t.request('POST', '/v1/commit', {
      reservation_id: committed,
      usage: { prompt_tokens: 1000, completion_tokens: 99 },
    });
    const late = await t.request('POST', '/v1/refund', { reservation_id: committed });
    expect(late.status).toBe(409);
    expect(await rows(committed)).toEqual([
      { status: 'committed', prompt_tokens: 1000, completion_tokens: 50, cost: '0.000180' },
    ]);

    const refund = await t.request('POST', '/v1/refund', { reservation_id: refunded });
    expect(refund.status, JSON.stringify(refund.body)).toBe(200);
    expect(await rows(refunded)).toEqual([
      { status: 'refunded', prompt_tokens: 0, completion_tokens: 0, cost: '0.000000' },
    ]);

    // `completion` text: the prompt count comes from the id, the completion is counted.
    const text = await t.request('POST', '/v1/commit', {
      reservation_id: counted,
      completion: 'Hello there, how are you today?',
    });
    expect(text.status, JSON.stringify(text.body)).toBe(200);
    const [row] = await rows(counted);
    expect(row).toMatchObject({ status: 'committed', prompt_tokens: 1000 });
    expect(row.completion_tokens).toBeGreaterThan(3);
    expect(row.completion_tokens).toBeLessThan(20);
  });

  it('refuses an altered or forged id (404), and settles nothing for it', async () => {
    const id = await check();
    const [encoded, claims, sig, ref] = id.split('.') as [string, string, string, string];
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString()) as unknown[];
    decoded[5] = 0; // a free completion
    const cheaper = Buffer.from(JSON.stringify(decoded)).toString('base64url');
    for (const forged of [
      `${encoded}.${cheaper}.${sig}.${ref}`,
      `${Buffer.from('someone_else').toString('base64url')}.${claims}.${sig}.${ref}`,
      `${encoded}.${claims}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}.${ref}`,
    ]) {
      const reply = await t.request('POST', '/v1/commit', { reservation_id: forged, usage });
      expect(reply.status, forged).toBe(404);
      expect(await rows(forged)).toEqual([]);
    }
  });
});
