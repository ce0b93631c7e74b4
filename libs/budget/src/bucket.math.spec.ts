import { isoDay, nextUtcMidnight } from '#kernel';
import { describe, expect, it } from 'vitest';
import {
  bucketState,
  costMicros,
  largestAffordableCompletion,
  refill,
  viewBucket,
  waitMs,
} from './bucket.math.js';

function reference(p: number, c: number, inPico: number, outPico: number): number {
  const pico = BigInt(p) * BigInt(inPico) + BigInt(c) * BigInt(outPico);
  return Number((pico + 999_999n) / 1_000_000n);
}

describe('costMicros', () => {
  it('rounds the summed pico-dollars up to a whole micro-dollar', () => {
    expect(costMicros(1, 0, { inputPicosPerToken: 1, outputPicosPerToken: 0 })).toBe(1);
    expect(costMicros(0, 0, { inputPicosPerToken: 5, outputPicosPerToken: 5 })).toBe(0);
    // $2.50 / $10 per Mtok: 1000 × 2.5 + 500 × 10 = 7500 µ$.
    expect(
      costMicros(1000, 500, { inputPicosPerToken: 2_500_000, outputPicosPerToken: 10_000_000 }),
    ).toBe(7_500);
    // Two halves round once, after the sum: 0.5 + 0.5 = 1, not 2.
    expect(costMicros(1, 1, { inputPicosPerToken: 500_000, outputPicosPerToken: 500_000 })).toBe(1);
  });

  it('is exact where the plain products pass 2^53', () => {
    const edges = [
      [10_000_000, 10_000_000, 1_000_000_000, 1_000_000_000],
      [9_999_999, 9_999_999, 999_999_999, 999_999_999],
      [10_000_000, 1, 999_999_999, 1],
      [7_777_777, 3_333_333, 123_456_789, 987_654_321],
    ];
    for (const [p, c, i, o] of edges) {
      expect(costMicros(p!, c!, { inputPicosPerToken: i!, outputPicosPerToken: o! })).toBe(
        reference(p!, c!, i!, o!),
      );
    }
    let seed = 42;
    const next = (max: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * max);
    };
    for (let n = 0; n < 2_000; n++) {
      const [p, c, i, o] = [
        next(10_000_001),
        next(10_000_001),
        next(1_000_000_001),
        next(1_000_000_001),
      ];
      expect(costMicros(p, c, { inputPicosPerToken: i, outputPicosPerToken: o })).toBe(
        reference(p, c, i, o),
      );
    }
  });
});

describe('costMicros with cached input', () => {
  const gpt4o = {
    inputPicosPerToken: 2_500_000,
    cachedInputPicosPerToken: 1_250_000,
    outputPicosPerToken: 10_000_000,
  };

  it('prices cached prompt tokens at the cached price, the rest at the input price', () => {
    // 1000 prompt of which 600 cached, 100 completion: 400×2.5 + 600×1.25 + 100×10 = 2750 µ$.
    expect(costMicros(1000, 100, gpt4o, 600)).toBe(2_750);
    expect(costMicros(1000, 100, gpt4o, 0)).toBe(costMicros(1000, 100, gpt4o));
    // No cached price: cached tokens cost the input price.
    const uncachedOnly = { inputPicosPerToken: 2_500_000, outputPicosPerToken: 10_000_000 };
    expect(costMicros(1000, 100, uncachedOnly, 600)).toBe(3_500);
  });

  it('rounds once, after the three terms are summed', () => {
    // 0.3 + 0.3 + 0.3 µ$ = 0.9 → 1, where three ceilings would give 3.
    const third = {
      inputPicosPerToken: 300_000,
      cachedInputPicosPerToken: 300_000,
      outputPicosPerToken: 300_000,
    };
    expect(costMicros(2, 1, third, 1)).toBe(1);
  });

  it('is exact against big-integer arithmetic', () => {
    let seed = 7;
    const next = (max: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * max);
    };
    for (let n = 0; n < 2_000; n++) {
      const [p, c, i, k, o] = [
        next(10_000_001),
        next(10_000_001),
        next(1_000_000_001),
        next(1_000_000_001),
        next(1_000_000_001),
      ];
      const cached = next(p + 1);
      const pico =
        BigInt(p - cached) * BigInt(i) + BigInt(cached) * BigInt(k) + BigInt(c) * BigInt(o);
      expect(
        costMicros(
          p,
          c,
          { inputPicosPerToken: i, cachedInputPicosPerToken: k, outputPicosPerToken: o },
          cached,
        ),
      ).toBe(Number((pico + 999_999n) / 1_000_000n));
    }
  });
});

describe('bucket arithmetic', () => {
  const stored = { level: 10, t: 1_000, cap: 100, perMinute: 60 };

  it('refills continuously at perMinute/60 per second, up to the stored capacity', () => {
    expect(refill(stored, 1_000)).toBe(10);
    expect(refill(stored, 2_500)).toBeCloseTo(11.5, 12);
    expect(refill(stored, 1_000_000)).toBe(100);
    // A clock that went back refills nothing.
    expect(refill(stored, 0)).toBe(10);
    expect(refill({ ...stored, level: -50 }, 11_000)).toBe(-40);
  });

  it('is full when absent, clamps to a shrunk capacity and keeps its level under a grown one', () => {
    expect(viewBucket(undefined, 30, 6, 5)).toEqual({ level: 30, cap: 30, perMinute: 6 });
    expect(viewBucket({ ...stored, level: 80 }, 50, 60, 1_000).level).toBe(50);
    expect(viewBucket({ ...stored, level: 100 }, 500, 600, 1_000).level).toBe(100);
  });

  it('waits exactly as long as the missing units take', () => {
    const view = { level: 4.5, cap: 10, perMinute: 6 }; // one unit per 10 s
    expect(waitMs(view, 4)).toBe(0);
    expect(waitMs(view, 5)).toBe(5_000);
    expect(waitMs({ ...view, perMinute: 0 }, 5)).toBe(-1);
    // A sliver short still waits a whole millisecond.
    expect(waitMs({ level: 5 - 1e-12, cap: 10, perMinute: 6 }, 5)).toBe(1);
    expect(bucketState(view)).toEqual({ limit: 10, remaining: 4, resetMs: 55_000 });
    expect(bucketState({ level: -3.2, cap: 10, perMinute: 60 })).toEqual({
      limit: 10,
      remaining: 0,
      resetMs: 13_200,
    });
  });
});

describe('days', () => {
  it('names UTC days and finds the next UTC midnight', () => {
    const t = Date.UTC(2026, 10, 22, 23, 59, 59, 999);
    expect(nextUtcMidnight(t)).toBe(Date.UTC(2026, 10, 23));
    expect(nextUtcMidnight(Date.UTC(2026, 10, 23))).toBe(Date.UTC(2026, 10, 24));
    expect(isoDay(Math.floor(t / 86_400_000))).toBe('2026-11-22');
  });
});

describe('largestAffordableCompletion', () => {
  it('finds the largest completion whose exact cost fits', () => {
    const pricing = { inputPicosPerToken: 1_000_000, outputPicosPerToken: 2_999_999 };
    expect(largestAffordableCompletion(100, 0, 500, pricing, 1_000)).toBe(300);
    expect(largestAffordableCompletion(100, 0, 500, pricing, 1e18)).toBe(500);
    expect(largestAffordableCompletion(100, 7, 500, pricing, 100)).toBe(7);
  });
});
