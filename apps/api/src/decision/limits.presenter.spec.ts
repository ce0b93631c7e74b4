import { describe, expect, it } from 'vitest';
import { isoSeconds, limitsView, openAiDuration, rateLimitHeaders } from './limits.presenter.js';

describe('openAiDuration', () => {
  it.each([
    [250, '250ms'],
    [1, '1ms'],
    [1000, '1s'],
    [1001, '2s'],
    [12_000, '12s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [0, '0s'],
  ])('%i ms is %s', (ms, text) => {
    expect(openAiDuration(ms)).toBe(text);
  });
});

describe('limitsView and headers', () => {
  const state = {
    requests: { limit: 10, remaining: 8, resetMs: 7_800 },
    tokens: { limit: 10_000, remaining: 8254, resetMs: 10_476 },
    concurrent: { limit: 2, remaining: 1 },
    dailyCost: {
      limitMicros: 1_000_000,
      remainingMicros: 987_655,
      resetAtMs: Date.UTC(2026, 10, 23),
    },
  };

  it('shows remaining as the state holds it (whole, floored once in bucket.math) and resets rounded up', () => {
    expect(limitsView(state)).toEqual({
      requests: { limit: 10, remaining: 8, reset_seconds: 8 },
      tokens: { limit: 10_000, remaining: 8254, reset_seconds: 11 },
      concurrent: { limit: 2, remaining: 1 },
      daily_cost: {
        limit_usd: '1.000000',
        remaining_usd: '0.987655',
        reset_at: '2026-11-23T00:00:00Z',
      },
    });
  });

  it('gives OpenAI and X-RateLimit headers, reset as the epoch second the bucket is full', () => {
    const now = Date.UTC(2026, 10, 22, 9, 30, 0, 500);
    expect(rateLimitHeaders(state, now)).toEqual({
      'x-ratelimit-limit-requests': '10',
      'x-ratelimit-remaining-requests': '8',
      'x-ratelimit-reset-requests': '8s',
      'x-ratelimit-limit-tokens': '10000',
      'x-ratelimit-remaining-tokens': '8254',
      'x-ratelimit-reset-tokens': '11s',
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '8',
      'X-RateLimit-Reset': String(Math.ceil((now + 7_800) / 1000)),
    });
  });

  it('omits unlimited dimensions', () => {
    expect(limitsView({})).toEqual({});
    expect(rateLimitHeaders({}, 0)).toEqual({});
  });

  it('formats instants without milliseconds', () => {
    expect(isoSeconds(Date.UTC(2026, 10, 22, 10, 0, 0, 1))).toBe('2026-11-22T10:00:01Z');
  });

  it('formats each instant as itself however calls alternate (the last ones are reused)', () => {
    const instants = [0, 1_500, 86_400_000, 1_500, 0, 999_999_999_999, 86_400_000, 1_001];
    for (const ms of instants) {
      expect(isoSeconds(ms)).toBe(
        new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      );
    }
  });
});
