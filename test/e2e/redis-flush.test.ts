import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';
import { deleteKeysUnder, keysUnder } from '../support/redis-keys.js';
import { expectRefusal } from '../support/refusals.js';

/**
 * SPEC §5: "Daily cost survives a Redis flush or restart: the day's committed cost is rebuilt
 * from Postgres." The flush here deletes only this app's keys: other files share this Redis.
 */

let t: TestApp;

// gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million completion tokens.
const check = (subject: string, promptTokens: number, maxTokens: number) =>
  t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: promptTokens,
    max_tokens: maxTokens,
  });

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('a Redis flush', () => {
  it("keeps the day's committed cost: the next check still counts it", async () => {
    const tier = await createTier(t.sql, 'flush', { dailyCostLimitUsd: '0.010000' });
    const subject = await subjectOnTier(t.sql, tier, [t.request], 'flush');

    // 20,000 × 0.15 + 5,000 × 0.60 = 6,000 µ$ committed today.
    const reserved = await check(subject, 20_000, 5_000);
    expect(reserved.status).toBe(200);
    const committed = await t.request('POST', '/v1/commit', {
      reservation_id: reserved.body.reservation_id,
      usage: { prompt_tokens: 20_000, completion_tokens: 5_000 },
    });
    expect(committed.status).toBe(200);
    expect(committed.body.cost_usd).toBe('0.006000');

    expect(await deleteKeysUnder(t.redisUrl, t.keyPrefix)).toBeGreaterThan(0);
    expect(await keysUnder(t.redisUrl, t.keyPrefix)).toEqual([]);

    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.limits).toMatchObject({ daily_cost: { remaining_usd: '0.004000' } });
    expect(usage.body.today).toMatchObject({ cost_usd: '0.006000', requests: 1 });

    // 10,000 × 0.15 + 5,000 × 0.60 = 4,500 µ$: more than the 4,000 µ$ left today.
    const refused = await check(subject, 10_000, 5_000);
    expectRefusal(refused, 'daily_cost');
    expect(refused.body).toMatchObject({
      error: 'daily_budget_exceeded',
      limit: '0.010000',
      remaining: '0.004000',
    });

    // 10,000 × 0.15 + 4,000 × 0.60 = 3,900 µ$ still fits, and is counted on top.
    const fits = await check(subject, 10_000, 4_000);
    expect(fits.status, JSON.stringify(fits.body)).toBe(200);
    expect(fits.body.limits).toMatchObject({ daily_cost: { remaining_usd: '0.000100' } });
  });

  it('counts the rebuilt day once, even when the first checks after the flush race', async () => {
    const tier = await createTier(t.sql, 'flush_race', { dailyCostLimitUsd: '0.010000' });
    const subject = await subjectOnTier(t.sql, tier, [t.request], 'flush_race');
    const reserved = await check(subject, 20_000, 5_000);
    await t.request('POST', '/v1/commit', {
      reservation_id: reserved.body.reservation_id,
      usage: { prompt_tokens: 20_000, completion_tokens: 5_000 },
    });
    await deleteKeysUnder(t.redisUrl, t.keyPrefix);

    // 1,000 µ$ each (4,000 × 0.15 + 666 × 0.60 → rounded up): exactly four fit in 4,000 µ$.
    const replies = await Promise.all(Array.from({ length: 20 }, () => check(subject, 4_000, 666)));
    const allowed = replies.filter((reply) => reply.status === 200);
    expect(
      allowed.map((reply) => (reply.body.estimate as Record<string, unknown>).cost_usd),
    ).toEqual(['0.001000', '0.001000', '0.001000', '0.001000']);
    for (const reply of replies.filter((r) => r.status !== 200)) {
      expectRefusal(reply, 'daily_cost');
    }
  });
});
