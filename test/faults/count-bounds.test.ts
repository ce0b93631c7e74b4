import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';

/**
 * SPEC §7 "Bad input … absurd numbers … never a 5xx", for counts the service makes itself: a
 * prompt counted with a large `token_multiplier` can exceed what a ledger row holds (int token
 * columns). It is refused at check with a 400, before anything is reserved, instead of a
 * reservation that answers 500 at commit and is retried for ever at expiry. The same for a
 * `completion` text counted at commit (a body limit raised to 8 MB makes one large enough): a
 * 400 before the store settles anything, and the reservation can still be committed.
 */

const INT4_MAX = 2_147_483_647;
let t: TestApp;
let model: string;

beforeAll(async () => {
  t = await startTestApp({ BODY_LIMIT_BYTES: String(8 * 1024 * 1024) });
  model = unique('bounds_model');
  // The largest multiplier the catalogue accepts (ck_models_token_multiplier_max).
  await t.sql(
    `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens, token_multiplier)
     VALUES ($1, 'o200k_base', '2.5', '10', 1000, '1000')`,
    [model],
  );
  await eventually(
    async () =>
      (
        await t.request('POST', '/v1/estimate', {
          subject: 'bounds_probe',
          model,
          prompt: 'hi',
        })
      ).status === 200,
    10_000,
  );
});

afterAll(async () => {
  await t?.sql('DELETE FROM models WHERE name = $1', [model]);
  await t?.close();
});

/** Wide images at high detail: 8 tiles, 1,445 tokens each before the multiplier. */
function images(count: number): { role: string; content: unknown[] }[] {
  const part = {
    type: 'image_url',
    image_url: { url: 'https://x/i.png', width: 2048, height: 768 },
  };
  const messages: { role: string; content: unknown[] }[] = [];
  for (let left = count; left > 0; left -= 256) {
    messages.push({
      role: 'user',
      content: Array.from({ length: Math.min(256, left) }, () => part),
    });
  }
  return messages;
}

describe('counts bounded where they are made', () => {
  it('a check whose counted prompt × token_multiplier exceeds the ledger columns is a 400', async () => {
    // A tier without limits: only the bound refuses.
    const tier = await createTier(t.sql, 'bounds', {});
    const subject = await subjectOnTier(t.sql, tier, [t.request], 'bounds');
    const messages = images(1_500); // 1,500 × 1,445 × 1000 > 2^31 − 1
    const estimate = await t.request('POST', '/v1/estimate', { subject, model, messages });
    // Counting alone is fine: the estimate reports the count, it reserves nothing.
    expect(estimate.status, JSON.stringify(estimate.body)).toBe(200);
    const counted = (estimate.body.estimate as { prompt_tokens: number }).prompt_tokens;
    expect(counted).toBeGreaterThan(INT4_MAX);

    const check = await t.request('POST', '/v1/check', {
      subject,
      model,
      messages,
      max_tokens: 10,
    });
    expect(check.status, JSON.stringify(check.body)).toBe(400);
    expect(check.body.error).toBe('invalid_request');
    expect(String(check.body.message)).toContain(String(INT4_MAX));
    // Nothing reserved.
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);

    // Just under the bound: allowed, committed, in the ledger.
    const fits = images(1_480); // 1,480 × 1,445 × 1000 < 2^31 − 1 (with the chat overhead)
    const ok = await t.request('POST', '/v1/check', {
      subject,
      model,
      messages: fits,
      max_tokens: 10,
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    // The prompt as counted at check (no prompt_tokens in the usage): the ledger row holds it.
    const commit = await t.request('POST', '/v1/commit', {
      reservation_id: ok.body.reservation_id,
      usage: { completion_tokens: 10 },
    });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    const rows = await t.sql(
      'SELECT prompt_tokens, status FROM usage_ledger WHERE reservation_id = $1',
      [ok.body.reservation_id],
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0].status).toBe('committed');
    expect(rows.rows[0].prompt_tokens).toBeGreaterThan(2_100_000_000);
  });

  it('a completion text counted at commit beyond the ledger columns is a 400, and settles nothing', async () => {
    const tier = await createTier(t.sql, 'bounds_text', {});
    const subject = await subjectOnTier(t.sql, tier, [t.request], 'bounds_text');
    const check = await t.request('POST', '/v1/check', {
      subject,
      model,
      prompt_tokens: 10,
      max_tokens: 10,
    });
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    const id = check.body.reservation_id;
    // 2.2 M tokens of " a", × 1000
    const huge = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      completion: ' a'.repeat(2_200_000),
    });
    expect(huge.status, JSON.stringify(huge.body).slice(0, 300)).toBe(400);
    expect(huge.body.error).toBe('invalid_request');
    // Nothing was settled: the real usage still commits, once.
    const commit = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: { prompt_tokens: 10, completion_tokens: 10 },
    });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
    const rows = await t.sql(
      'SELECT completion_tokens FROM usage_ledger WHERE reservation_id = $1',
      [id],
    );
    expect(rows.rows).toEqual([{ completion_tokens: 10 }]);
  }, 60_000);
});
