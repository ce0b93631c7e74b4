import { type BpeTable, NO_RANK, joinHashes } from './bpe.table.js';

/**
 * Byte-pair merging, counting only: how many tokens the bytes of one pre-tokenized piece become.
 *
 * The rule is tiktoken's (and js-tiktoken's `bytePairMerge`): start from single bytes and keep
 * merging the adjacent pair whose concatenation has the lowest rank, the leftmost one on a tie,
 * until no adjacent pair is a token. js-tiktoken rescans every pair after every merge, which is
 * quadratic; we rescan only short pieces (fastest when n is small) and use a heap with lazy
 * invalidation for long ones, O(n log n), with the same merge order and so the same result.
 *
 * Parts carry the hash of their bytes, so a pair's hash is one multiply-add (`joinHashes`).
 * Scratch arrays are reused across calls: one thread, one merge at a time.
 */

/** Below this many bytes the rescanning merge beats the heap's bookkeeping. */
const HEAP_FROM_BYTES = 48;

let starts = new Int32Array(256);
let hashes = new Int32Array(256);
let ranks = new Int32Array(256);
let links = new Int32Array(256);

function reserve(n: number): void {
  if (starts.length <= n) {
    const size = 2 ** Math.ceil(Math.log2(n + 1));
    starts = new Int32Array(size);
    hashes = new Int32Array(size);
    ranks = new Int32Array(size);
    links = new Int32Array(size);
  }
}

/** The number of tokens bytes[0 .. n) merges into (n ≥ 1; the caller has ruled out n = 1 token). */
export function countMergedTokens(table: BpeTable, bytes: Uint8Array, n: number): number {
  if (n < 2) {
    return n;
  }
  reserve(n);
  return n < HEAP_FROM_BYTES ? rescanMerge(table, bytes, n) : heapMerge(table, bytes, n);
}

function rescanMerge(table: BpeTable, bytes: Uint8Array, n: number): number {
  // Part i starts at starts[i] and hashes to hashes[i]; ranks[i] ranks parts i and i+1 joined.
  const pairs = table.pairRank;
  for (let i = 0; i < n; i++) {
    starts[i] = i;
    hashes[i] = bytes[i]!;
  }
  starts[n] = n;
  for (let i = 0; i < n - 1; i++) {
    ranks[i] = pairs[(bytes[i]! << 8) | bytes[i + 1]!]!;
  }
  let parts = n;
  while (parts > 1) {
    let best = NO_RANK;
    let at = -1;
    for (let i = 0; i < parts - 1; i++) {
      const rank = ranks[i]!;
      if (rank !== NO_RANK && (best === NO_RANK || rank < best)) {
        best = rank;
        at = i;
      }
    }
    if (at < 0) {
      break;
    }
    // Part at+1 disappears into part at.
    hashes[at] = joinHashes(hashes[at]!, hashes[at + 1]!, starts[at + 2]! - starts[at + 1]!);
    starts.copyWithin(at + 1, at + 2, parts + 1);
    hashes.copyWithin(at + 1, at + 2, parts);
    ranks.copyWithin(at, at + 1, parts - 1);
    parts--;
    if (at < parts - 1) {
      ranks[at] = pairRankAt(table, bytes, at);
    }
    if (at > 0) {
      ranks[at - 1] = pairRankAt(table, bytes, at - 1);
    }
  }
  return parts;
}

/** The rank of parts i and i+1 joined, in the rescanning layout. */
function pairRankAt(table: BpeTable, bytes: Uint8Array, i: number): number {
  const from = starts[i]!;
  const middle = starts[i + 1]!;
  const to = starts[i + 2]!;
  if (to - from > table.maxTokenBytes) {
    return NO_RANK;
  }
  return table.rankOf(bytes, from, to, joinHashes(hashes[i]!, hashes[i + 1]!, to - middle));
}

/** Heap keys pack (rank, position) so that the smallest key is the lowest rank, leftmost. */
const POSITION_SPAN = 2 ** 32;

function heapMerge(table: BpeTable, bytes: Uint8Array, n: number): number {
  // A linked list of parts, each known by its first byte's position: `links` holds the next
  // part's start, `starts` (reused) the previous part's; `ranks` the rank of the pair a part
  // begins, NO_RANK if none or if the part was absorbed.
  const next = links;
  const prev = starts;
  const pairs = table.pairRank;
  const heap = new MinHeap();
  for (let i = 0; i < n; i++) {
    next[i] = i + 1;
    prev[i] = i - 1;
    hashes[i] = bytes[i]!;
    ranks[i] = NO_RANK;
  }
  for (let i = 0; i < n - 1; i++) {
    const rank = pairs[(bytes[i]! << 8) | bytes[i + 1]!]!;
    ranks[i] = rank;
    if (rank !== NO_RANK) {
      heap.push(rank * POSITION_SPAN + i);
    }
  }
  const rankFrom = (left: number, right: number): number => {
    const end = right < n ? next[right]! : n;
    if (right >= n || end - left > table.maxTokenBytes) {
      return NO_RANK;
    }
    return table.rankOf(bytes, left, end, joinHashes(hashes[left]!, hashes[right]!, end - right));
  };
  let parts = n;
  while (heap.size > 0) {
    const key = heap.pop();
    const rank = Math.floor(key / POSITION_SPAN);
    const at = key - rank * POSITION_SPAN;
    // Stale entry: the pair at `at` changed since. A pair at one position only ever grows and
    // different byte strings have different ranks, so an equal rank means the entry is current.
    if (ranks[at] !== rank) {
      continue;
    }
    const absorbed = next[at]!;
    const end = next[absorbed]!;
    hashes[at] = joinHashes(hashes[at]!, hashes[absorbed]!, end - absorbed);
    ranks[absorbed] = NO_RANK;
    next[at] = end;
    if (end < n) {
      prev[end] = at;
    }
    parts--;
    ranks[at] = rankFrom(at, end);
    if (ranks[at] !== NO_RANK) {
      heap.push(ranks[at]! * POSITION_SPAN + at);
    }
    if (at > 0) {
      const before = prev[at]!;
      ranks[before] = rankFrom(before, at);
      if (ranks[before] !== NO_RANK) {
        heap.push(ranks[before]! * POSITION_SPAN + before);
      }
    }
  }
  return parts;
}

/** A binary min-heap of numbers; small and monomorphic so that V8 keeps it fast. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) {
        break;
      }
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    const size = items.length;
    if (size > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) {
          break;
        }
        if (child + 1 < size && items[child + 1]! < items[child]!) {
          child++;
        }
        if (items[child]! >= last) {
          break;
        }
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
