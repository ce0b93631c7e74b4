import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';

/** SPEC §3: a shrunk limit clamps the bucket, and growing it again does not give the level back. */
let t: TestApp;

const check = (subject: string) =>
  t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 199,
    max_tokens: 1,
  });

/** Waits until the service judges the subject on `limit` tokens, without deciding any check. */
async function seesTokenLimit(subject: string, limit: number): Promise<void> {
  await eventually(async () => {
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    return (usage.body.limits as { tokens?: { limit: number } }).tokens?.limit === limit;
  });
}

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('limits edited with SQL, with no check while the limit is small', () => {
  it('60,000 → 600 → 6,000 tokens/min: about 3 checks of 200 pass, not 30', async () => {
    const tier = await createTier(t.sql, 'tpm', { tokensPerMinute: 60_000 });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);
    expect((await check(subject)).status).toBe(200);
    await t.sql('UPDATE tiers SET tokens_per_minute = 600 WHERE name = $1', [tier]);
    await seesTokenLimit(subject, 600);
    await t.sql('UPDATE tiers SET tokens_per_minute = 6000 WHERE name = $1', [tier]);
    await seesTokenLimit(subject, 6_000);
    const started = Date.now();
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    const remaining = (usage.body.limits as { tokens: { remaining: number } }).tokens.remaining;
    let allowed = 0;
    for (let i = 0; i < 30; i += 1) {
      if ((await check(subject)).status === 200) {
        allowed += 1;
      }
    }
    // 600 at the shrink, then 100 tokens a second since the grow (it was seen within ~2 s).
    const refilled = Math.ceil(((Date.now() - started) / 1000 + 3) * 100);
    expect(remaining).toBeLessThanOrEqual(600 + 300);
    expect(allowed).toBeLessThanOrEqual(Math.floor((600 + refilled) / 200));
    expect(allowed).toBeGreaterThanOrEqual(3);
  });
});
