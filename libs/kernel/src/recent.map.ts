/**
 * A bounded memo of what was looked up lately, in two generations of Map: lookups hit `recent`
 * first; when it is full (in entries, or in characters of keys when `chars` is set: long keys
 * must not make it big) it becomes `older` and the previous `older` is dropped. A hit in `older`
 * is copied back into `recent`, so keys in steady use survive every turnover. O(1), no
 * bookkeeping per lookup, and never more than twice the limits.
 *
 * Keys are copied (detachedString) before they are kept: a key cut from a large text must not
 * keep the whole text alive.
 */
export interface RecentMapLimits {
  /** Entries per generation. */
  entries: number;
  /** Characters of keys per generation (default: no limit). */
  chars?: number;
}

export class RecentMap<V> {
  private recent = new Map<string, V>();
  private older = new Map<string, V>();
  private recentChars = 0;
  private readonly entries: number;
  private readonly chars: number;

  constructor(limits: RecentMapLimits) {
    this.entries = limits.entries;
    this.chars = limits.chars ?? Infinity;
  }

  /** Either generation. */
  get(key: string): V | undefined {
    return this.recent.get(key) ?? this.getOlder(key);
  }

  /** The newer generation only: one Map lookup, for the hottest loops (then getOlder). */
  getRecent(key: string): V | undefined {
    return this.recent.get(key);
  }

  /** The second chance, taken only after getRecent missed: a hit moves to the newer one. */
  getOlder(key: string): V | undefined {
    const value = this.older.get(key);
    if (value !== undefined) {
      this.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.recent.set(detachedString(key), value);
    this.recentChars += key.length;
    if (this.recent.size >= this.entries || this.recentChars >= this.chars) {
      this.older = this.recent;
      this.recent = new Map();
      this.recentChars = 0;
    }
  }

  clear(): void {
    this.recent = new Map();
    this.older = new Map();
    this.recentChars = 0;
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}

/**
 * V8 represents a substring of 13+ chars as a view into its parent. A key cut from a 1 MB text
 * kept in a cache would keep the whole text alive for as long as the key lives; concatenation
 * then slice flattens into a fresh string that holds only the key itself.
 */
export function detachedString(text: string): string {
  return text.length < 13 ? text : (text + ' ').slice(0, -1);
}
