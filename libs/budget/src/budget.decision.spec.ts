import { describe, expect, it } from 'vitest';
import { type DecisionInput, decideReserve } from './budget.decision.js';

const NOW = Date.UTC(2026, 10, 22, 12);
const base: DecisionInput = {
  now: NOW,
  promptTokens: 100,
  completionTokens: 400,
  pricing: { inputPicosPerToken: 1_000_000, outputPicosPerToken: 1_000_000 },
};

describe('decideReserve', () => {
  it('grants the whole estimate when every dimension has room', () => {
    expect(
      decideReserve({
        ...base,
        tokens: { level: 500, cap: 1_000, perMinute: 60 },
        concurrent: { limit: 1, active: 0 },
        dailyCost: { limitMicros: 500, usedMicros: 0 },
      }),
    ).toEqual({ allowed: true, completionTokens: 400, costMicros: 500 });
  });

  it('judges capacity before waiting: exceeds_capacity wins over any retry', () => {
    expect(
      decideReserve({
        ...base,
        requests: { level: 0, cap: 10, perMinute: 1 },
        dailyCost: { limitMicros: 499, usedMicros: 0 },
      }),
    ).toEqual({ allowed: false, reason: 'exceeds_capacity', dimension: 'daily_cost' });
  });

  it('names the refusing dimension that needs the longest wait', () => {
    const decision = decideReserve({
      ...base,
      requests: { level: 0.5, cap: 10, perMinute: 60 }, // 500 ms
      tokens: { level: 490, cap: 1_000, perMinute: 60 }, // 10 s
      concurrent: { limit: 2, active: 2, earliestExpiryMs: NOW + 4_000 },
    });
    expect(decision).toEqual({
      allowed: false,
      reason: 'limited',
      dimension: 'tokens',
      retryAfterMs: 10_000,
    });
  });

  it('degrades to prompt + the largest completion that fits, or waits for prompt + min', () => {
    const tokens = { level: 250.9, cap: 1_000, perMinute: 60 };
    expect(decideReserve({ ...base, minCompletionTokens: 100, tokens })).toMatchObject({
      allowed: true,
      completionTokens: 150,
    });
    expect(decideReserve({ ...base, minCompletionTokens: 200, tokens })).toEqual({
      allowed: false,
      reason: 'limited',
      dimension: 'tokens',
      retryAfterMs: 49_100,
    });
  });

  it('waits for UTC midnight on the daily budget', () => {
    expect(decideReserve({ ...base, dailyCost: { limitMicros: 1_000, usedMicros: 600 } })).toEqual({
      allowed: false,
      reason: 'limited',
      dimension: 'daily_cost',
      retryAfterMs: 12 * 3_600_000,
    });
  });
});
