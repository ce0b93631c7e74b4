import { describe, expect, it } from 'vitest';
import { refusalBody } from './refusal.presenter.js';

const now = Date.UTC(2026, 10, 22, 9, 31, 0);
const state = {
  requests: { limit: 10, remaining: 3, resetMs: 40_000 },
  tokens: { limit: 10_000, remaining: 200.6, resetMs: 58_800 },
  dailyCost: { limitMicros: 1_000_000, remainingMicros: 12_345, resetAtMs: Date.UTC(2026, 10, 23) },
};

describe('refusalBody', () => {
  it('says which limit refused, by how much, and when to retry', () => {
    const { body, retryAfterSeconds } = refusalBody(
      { reason: 'limited', dimension: 'tokens', retryAfterMs: 11_200, state },
      now,
    );
    expect(retryAfterSeconds).toBe(12);
    expect(body).toMatchObject({
      error: 'rate_limit_exceeded',
      message: 'Token limit exceeded: 9,800 of 10,000 tokens used this minute; retry in 12 s.',
      dimension: 'tokens',
      retry_after_seconds: 12,
      limit: 10_000,
      remaining: 200,
      reset_at: '2026-11-22T09:31:12Z',
    });
  });

  it('gives money strings for the daily budget and never a retry below one second', () => {
    const { body, retryAfterSeconds } = refusalBody(
      { reason: 'limited', dimension: 'daily_cost', retryAfterMs: 0, state },
      now,
    );
    expect(retryAfterSeconds).toBe(1);
    expect(body).toMatchObject({
      error: 'daily_budget_exceeded',
      limit: '1.000000',
      remaining: '0.012345',
    });
  });

  it('has no retry for a request that can never fit', () => {
    const { body, retryAfterSeconds } = refusalBody(
      { reason: 'exceeds_capacity', dimension: 'tokens', state },
      now,
    );
    expect(retryAfterSeconds).toBeUndefined();
    expect(body.error).toBe('exceeds_capacity');
    expect(body).not.toHaveProperty('retry_after_seconds');
    expect(body).not.toHaveProperty('reset_at');
    expect(String(body.message)).toMatch(/^Token limit can never admit this request/);
  });
});
