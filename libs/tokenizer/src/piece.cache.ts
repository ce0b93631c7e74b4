import { detachedString } from '#kernel';

/**
 * A bounded piece → token-count cache. Exact by construction: an encoding's pre-tokenization
 * splits text into pieces that are merged independently, so a piece's count never depends on its
 * neighbours.
 *
 * Two generations instead of a true LRU: lookups hit `recent` first; when it is full (in entries
 * or in characters) it becomes `older` and the previous `older` is dropped. A hit in `older` is
 * copied back into `recent`, so frequent pieces (" the", ",", "    ") survive every turnover.
 * O(1), no bookkeeping on the hot path, and never more than twice the limits.
 */
export interface PieceCacheLimits {
  /** Entries per generation. */
  entries: number;
  /** Characters of keys per generation: long slices must not make the cache big. */
  chars: number;
}

export class PieceCache {
  private recent = new Map<string, number>();
  private older = new Map<string, number>();
  private recentChars = 0;

  constructor(private readonly limits: PieceCacheLimits) {}

  /** The hot path: one Map lookup. */
  get(piece: string): number | undefined {
    return this.recent.get(piece);
  }

  /** The second chance, taken only after `get` missed. */
  getOlder(piece: string): number | undefined {
    const count = this.older.get(piece);
    if (count !== undefined) {
      this.set(piece, count);
    }
    return count;
  }

  set(piece: string, count: number): void {
    this.recent.set(detachedString(piece), count);
    this.recentChars += piece.length;
    if (this.recent.size >= this.limits.entries || this.recentChars >= this.limits.chars) {
      this.older = this.recent;
      this.recent = new Map();
      this.recentChars = 0;
    }
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}
