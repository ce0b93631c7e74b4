import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { Rng } from './text.corpus.js';
import { BpeTable, hashBytes, NO_RANK } from './bpe.table.js';

/** js-tiktoken's own maps (internal fields, read here only to check our table against them). */
interface TiktokenMaps {
  rankMap: Map<string, number>;
  textMap: Map<number, Uint8Array>;
}

describe.each([
  ['o200k_base', o200k],
  ['cl100k_base', cl100k],
] as const)('BpeTable of %s', (_name, source) => {
  it("holds exactly js-tiktoken's ranks", async () => {
    const table = await BpeTable.fromTiktokenRanks(source.bpe_ranks);
    const { rankMap, textMap } = new Tiktoken(source) as unknown as TiktokenMaps;
    const wrong: number[] = [];
    for (const [rank, bytes] of textMap) {
      if (table.rankOf(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length)) !== rank) {
        wrong.push(rank);
      }
    }
    expect(wrong).toEqual([]);
    expect(textMap.size).toBeGreaterThan(100_000);
    // And nothing else: random byte strings are tokens exactly when js-tiktoken says so.
    const rng = new Rng(7);
    const disagreements: string[] = [];
    let tokens = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Uint8Array.from({ length: 2 + rng.int(5) }, () =>
        rng.chance(0.8) ? 97 + rng.int(26) : rng.int(256),
      );
      const rank = table.rankOf(bytes, 0, bytes.length, hashBytes(bytes, 0, bytes.length));
      const expected = rankMap.get(bytes.join(',')) ?? NO_RANK;
      tokens += expected === NO_RANK ? 0 : 1;
      if (rank !== expected) {
        disagreements.push(`${bytes.join(',')}: ${rank} ≠ ${expected}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(tokens).toBeGreaterThan(100); // the sample holds tokens as well as non-tokens
  });
});
