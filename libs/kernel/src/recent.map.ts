/**
 * A bounded memo of what was looked up lately, in two generations of Map: lookups hit `recent`
 * first; when it holds `entries` keys it becomes `older` and the previous `older` is dropped. A
 * hit in `older` is copied back into `recent`, so keys in steady use survive every turnover.
 * O(1), no bookkeeping per lookup, and never more than twice `entries` keys.
 *
 * Keys are copied (detachedString) before they are kept: a key cut from a large request body
 * must not keep the whole body alive.
 */
export class RecentMap<V> {
  private recent = new Map<string, V>();
  private older = new Map<string, V>();

  constructor(private readonly entries: number) {}

  get(key: string): V | undefined {
    const hit = this.recent.get(key);
    if (hit !== undefined) {
      return hit;
    }
    const old = this.older.get(key);
    if (old !== undefined) {
      this.set(key, old);
    }
    return old;
  }

  set(key: string, value: V): void {
    this.recent.set(detachedString(key), value);
    if (this.recent.size >= this.entries) {
      this.older = this.recent;
      this.recent = new Map();
    }
  }

  clear(): void {
    this.recent = new Map();
    this.older = new Map();
  }

  get size(): number {
    return this.recent.size + this.older.size;
  }
}

/**
 * V8 represents a substring of 13+ chars as a view into its parent. A key cut from a 1 MB body
 * kept in a cache would keep the whole body alive for as long as the key lives; concatenation
 * then slice flattens into a fresh string that holds only the key itself.
 */
export function detachedString(text: string): string {
  return text.length < 13 ? text : (text + ' ').slice(0, -1);
}
