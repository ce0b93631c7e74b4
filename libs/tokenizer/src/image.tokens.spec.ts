import { describe, expect, it } from 'vitest';
import { IMAGE_UNKNOWN_SIZE_TOKENS, imageTokens, tilesAtHighDetail } from './image.tokens.js';

describe('image tokens (OpenAI tile formula)', () => {
  it.each([
    // OpenAI's published examples.
    [1024, 1024, 'high', 765],
    [2048, 4096, 'high', 1105],
    [4096, 8192, 'low', 85],
    // Small images are not enlarged: one tile.
    [512, 512, 'high', 255],
    [100, 100, 'high', 255],
    // Shortest side brought to 768: 1536 × 768 is 3 × 2 tiles.
    [3000, 1500, 'high', 85 + 170 * 6],
    // Fit 2048 first: 10000 × 500 becomes 2048 × 102, one row of 4 tiles.
    [10000, 500, 'high', 85 + 170 * 4],
    // `auto` is priced as `high`, the larger of the two.
    [1024, 1024, 'auto', 765],
    [1024, 1024, undefined, 765],
  ] as const)('%i × %i at %s detail costs %i', (width, height, detail, tokens) => {
    expect(imageTokens({ url: 'https://example.com/a.png', width, height, detail })).toBe(tokens);
  });

  it('uses the documented flat estimate without a size', () => {
    expect(IMAGE_UNKNOWN_SIZE_TOKENS).toBe(765);
    expect(imageTokens({ url: 'data:image/png;base64,AAAA' })).toBe(765);
    expect(imageTokens({ url: 'x', width: 800 })).toBe(765);
    expect(imageTokens({ url: 'x', width: 0, height: 10 })).toBe(765);
    expect(imageTokens(undefined)).toBe(765);
  });

  it('prices low detail flat, size or not', () => {
    expect(imageTokens({ url: 'x', detail: 'low' })).toBe(85);
  });

  it('does not lose a tile to float error', () => {
    expect(tilesAtHighDetail(1536, 1152)).toBe(4); // → 1024 × 768
  });
});
