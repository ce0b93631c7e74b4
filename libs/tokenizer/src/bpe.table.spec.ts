import { describe, expect, it } from 'vitest';
import { hashBytes, joinHashes } from './bpe.table.js';

describe('hashes', () => {
  it('join like the hash of the joined bytes', () => {
    const bytes = new TextEncoder().encode('tokens, naïve 東京');
    for (let cut = 1; cut < bytes.length; cut++) {
      const joined = joinHashes(
        hashBytes(bytes, 0, cut),
        hashBytes(bytes, cut, bytes.length),
        bytes.length - cut,
      );
      expect(joined).toBe(hashBytes(bytes, 0, bytes.length));
    }
  });
});
