import { describe, expect, it } from 'vitest';
import { microsToUsd, usdPerMtokToPicosPerToken, usdToMicros } from './money.js';

describe('money', () => {
  it.each([
    [0, '0.000000'],
    [1, '0.000001'],
    [12_345, '0.012345'],
    [1_000_000, '1.000000'],
    [-1_500_000, '-1.500000'],
    [Number.MAX_SAFE_INTEGER, '9007199254.740991'],
  ])('formats %i micro-dollars as %s', (micros, text) => {
    expect(microsToUsd(micros)).toBe(text);
    expect(usdToMicros(text)).toBe(micros);
  });

  it('parses what Postgres prints for numeric, exactly', () => {
    expect(usdToMicros('1')).toBe(1_000_000);
    expect(usdToMicros('0.1')).toBe(100_000);
    expect(usdToMicros('0.3')).toBe(300_000); // 0.1 + 0.2 !== 0.3 in floats; here it is exact.
    expect(usdToMicros('50.000000')).toBe(50_000_000);
    expect(usdToMicros('0.00123400000000000000')).toBe(1234);
    expect(usdToMicros('.5')).toBe(500_000);
  });

  it('refuses text that would need rounding or is not a number', () => {
    expect(() => usdToMicros('0.0000001')).toThrow(/more than 6 decimal places/);
    expect(() => usdToMicros('1e-6')).toThrow(/not a decimal number/);
    expect(() => usdToMicros('')).toThrow(/not a decimal number/);
    expect(() => usdToMicros('.')).toThrow(/not a decimal number/);
    expect(() => usdToMicros('NaN')).toThrow(/not a decimal number/);
    expect(() => usdToMicros('9007199255')).toThrow(/too large/);
    expect(() => microsToUsd(0.5)).toThrow(/safe integer/);
  });

  it('turns USD per million tokens into integer pico-dollars per token', () => {
    expect(usdPerMtokToPicosPerToken('2.5')).toBe(2_500_000);
    expect(usdPerMtokToPicosPerToken('0.05')).toBe(50_000);
    expect(usdPerMtokToPicosPerToken('0.000001')).toBe(1);
    expect(usdPerMtokToPicosPerToken('60')).toBe(60_000_000);
  });
});
