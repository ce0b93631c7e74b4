import { describe, expect, it } from 'vitest';
import { InvalidTokenMultiplierError } from '#kernel';
import { applyTokenMultiplier } from './token.multiplier.js';

describe('applyTokenMultiplier', () => {
  it('leaves counts alone at 1', () => {
    expect(applyTokenMultiplier(1234, 1, 'gpt-4o')).toBe(1234);
  });

  it('rounds up, and exactly: 100 × 1.15 is 115, not 116', () => {
    expect(100 * 1.15).not.toBe(115); // the float trap this avoids
    expect(applyTokenMultiplier(100, 1.15, 'm')).toBe(115);
    expect(applyTokenMultiplier(101, 1.15, 'm')).toBe(117); // 116.15 → 117
    expect(applyTokenMultiplier(10, 1.2, 'm')).toBe(12);
    expect(applyTokenMultiplier(11, 1.1, 'm')).toBe(13); // 12.1 → 13
    expect(applyTokenMultiplier(0, 1.2, 'm')).toBe(0);
  });

  it('accepts the numeric string Postgres hands over', () => {
    expect(applyTokenMultiplier(100, '1.2' as unknown as number, 'm')).toBe(120);
  });

  it('refuses a multiplier that would bill nothing or nonsense', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => applyTokenMultiplier(10, bad, 'm')).toThrow(InvalidTokenMultiplierError);
    }
  });
});
