import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';

/** SPEC §3: limits follow SQL edits exactly, and a concurrency refusal says retry in 1 s. */
let t: TestApp;

const check = (subject: string, promptTokens = 10) =>
  t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: promptTokens,
    max_tokens: 1,
  });

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('limits edited with SQL', () => {
  it('a raised requests_per_minute takes effect within seconds (2 → 100)', async () => {
    const tier = await createTier(t.sql, 'rpm2', { requestsPerMinute: 2 });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);
    expect((await check(subject)).status).toBe(200);
    expect((await check(subject)).status).toBe(200);
    expect((await check(subject)).status).toBe(429);
    await t.sql('UPDATE tiers SET requests_per_minute = 100 WHERE name = $1', [tier]);
    const started = Date.now();
    // At 2/min the next request would be ~30 s away; at 100/min it is 0.6 s away.
    await eventually(async () => (await check(subject)).status === 200, 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a shrink then a grow keeps the clamped level (60,000 → 600 → 6,000 tokens/min)', async () => {
    const tier = await createTier(t.sql, 'tpm', { tokensPerMinute: 60_000 });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);
    expect((await check(subject, 100)).status).toBe(200);
    await t.sql('UPDATE tiers SET tokens_per_minute = 600 WHERE name = $1', [tier]);
    // While small, only refused checks run (larger than the bucket): they must still clamp it.
    await eventually(async () => {
      const reply = await check(subject, 700);
      return reply.status === 429 && reply.headers.get('x-ratelimit-limit-tokens') === '600';
    });
    await t.sql('UPDATE tiers SET tokens_per_minute = 6000 WHERE name = $1', [tier]);
    // Probed with 701 tokens too, so no check is allowed (and writes) while the limit is small.
    let reply = await check(subject, 700);
    const started = Date.now();
    await eventually(async () => {
      reply = await check(subject, 700);
      return reply.headers.get('x-ratelimit-limit-tokens') === '6000';
    });
    // ≤ 600 plus what refilled since (100 tokens a second at 6,000/min): 701 do not fit yet.
    const remaining = Number(reply.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeLessThanOrEqual(600 + Math.ceil((Date.now() - started) / 10) + 100);
    expect(reply.status).toBe(429);
  });

  it('a concurrency refusal answers Retry-After: 1', async () => {
    const tier = await createTier(t.sql, 'conc1', { maxConcurrent: 1 });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);
    expect((await check(subject)).status).toBe(200);
    const no = await check(subject);
    expect(no.status).toBe(429);
    expect(no.body).toMatchObject({ error: 'concurrency_limit_exceeded', retry_after_seconds: 1 });
    expect(no.headers.get('retry-after')).toBe('1');
  });
});
