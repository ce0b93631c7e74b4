import { describe, expect, it } from 'vitest';
import { corpusText } from './text.corpus.js';
import { partitionTexts } from './text.partition.js';

describe('cutting texts for several workers', () => {
  it('balances batches and keeps every character', () => {
    const texts = [corpusText('prose', 1, 500_000), 'short', corpusText('code', 2, 90_000)];
    const batches = partitionTexts(texts, 4, 100_000);
    expect(batches).toHaveLength(4);
    const sizes = batches.map((batch) => batch.reduce((sum, text) => sum + text.length, 0));
    expect(sizes.reduce((a, b) => a + b)).toBe(texts.reduce((sum, text) => sum + text.length, 0));
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(1.05);
    expect(batches.flat().join('')).toBe(texts.join(''));
  });

  it('keeps small inputs in one batch, and uncuttable text whole', () => {
    expect(partitionTexts(['a', 'b'], 4, 100_000)).toEqual([['a', 'b']]);
    const blob = 'x'.repeat(300_000);
    expect(partitionTexts([blob], 3, 100_000)).toEqual([[blob]]);
  });
});
