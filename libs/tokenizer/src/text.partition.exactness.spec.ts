import { describe, expect, it } from 'vitest';
import { corpusText } from './text.corpus.js';
import { loadEncoding } from './encoding.loader.js';
import { ENCODINGS } from './encoding.registry.js';
import { PieceCounter } from './piece.counter.js';
import { partitionTexts } from './text.partition.js';

/** Exactness: a count spread over workers sums to the count of the whole text, for every encoding. */
describe('cutting texts for several workers', () => {
  it.each(ENCODINGS)('cuts only where %s pre-tokenization cuts anyway', async (name) => {
    const counter = new PieceCounter(await loadEncoding(name));
    for (const kind of [
      'prose',
      'code',
      'multilingual',
      'whitespace',
      'json',
      'no-whitespace',
    ] as const) {
      const text = corpusText(kind, 3, 40_000);
      const segments = partitionTexts([text], 20, 1_000).flat();
      expect(segments.length).toBeGreaterThan(10);
      expect(segments.join('')).toBe(text);
      expect(segments.flatMap((segment) => counter.split(segment))).toEqual(counter.split(text));
    }
  });
});
