import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * One encoding's vocabulary (js-tiktoken's ranks) as flat typed arrays: token bytes side by side
 * and an open-addressing hash table from bytes to rank. Compared with a Map of strings this is
 * about a sixth of the memory (~6 MB for o200k_base, per thread), and lookups take a byte range
 * of a scratch buffer plus its hash, so merging allocates no substrings.
 *
 * The hash is polynomial, so the hash of two adjacent parts joined is computed from the parts'
 * hashes (`joinHashes`) without rereading their bytes.
 */

const MULTIPLIER = 0x01000193;
/** Powers of MULTIPLIER mod 2^32, far beyond any token's length (o200k's longest is 128 bytes). */
const POWERS = new Int32Array(1025);
POWERS[0] = 1;
for (let i = 1; i < POWERS.length; i++) {
  POWERS[i] = Math.imul(POWERS[i - 1]!, MULTIPLIER);
}

export const NO_RANK = -1;

/** Hash of one byte, as a part of length one. */
export function byteHash(byte: number): number {
  return byte | 0;
}

/** Hash of `left ‖ right` from their hashes, `right` being `rightLength` bytes long. */
export function joinHashes(left: number, right: number, rightLength: number): number {
  return (Math.imul(left, POWERS[rightLength]!) + right) | 0;
}

export function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let hash = 0;
  for (let i = from; i < to; i++) {
    hash = (Math.imul(hash, MULTIPLIER) + bytes[i]!) | 0;
  }
  return hash;
}

/** murmur3's finaliser: the polynomial hash's low bits are weak, the slot index needs good ones. */
function slotOf(hash: number, mask: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

export class BpeTable {
  /** The longest token, in bytes: longer ranges are never looked up. */
  readonly maxTokenBytes: number;

  private constructor(
    /** Token bytes, token after token. */
    private readonly tokenBytes: Uint8Array,
    /** Token r's bytes are tokenBytes[tokenStart[r] .. tokenStart[r + 1]). */
    private readonly tokenStart: Int32Array,
    /** rank + 1 per slot, 0 for an empty slot. */
    private readonly slotRank: Int32Array,
    /** The full hash per slot, compared before any byte is. */
    private readonly slotHash: Int32Array,
    /** Ranks of all two-byte tokens, indexed by (first << 8) | second: the merge's first round. */
    readonly pairRank: Int32Array,
  ) {
    let longest = 0;
    for (let r = 0; r + 1 < tokenStart.length; r++) {
      longest = Math.max(longest, tokenStart[r + 1]! - tokenStart[r]!);
    }
    this.maxTokenBytes = longest;
  }

  /** The rank of bytes[from .. to), whose hash is `hash`; NO_RANK if it is no token. */
  rankOf(bytes: Uint8Array, from: number, to: number, hash: number): number {
    const length = to - from;
    if (length > this.maxTokenBytes) {
      return NO_RANK;
    }
    const mask = this.slotRank.length - 1;
    for (let slot = slotOf(hash, mask); ; slot = (slot + 1) & mask) {
      const entry = this.slotRank[slot]!;
      if (entry === 0) {
        return NO_RANK;
      }
      if (this.slotHash[slot] !== hash) {
        continue;
      }
      const rank = entry - 1;
      const start = this.tokenStart[rank]!;
      if (this.tokenStart[rank + 1]! - start !== length) {
        continue;
      }
      let same = true;
      for (let i = 0; i < length; i++) {
        if (this.tokenBytes[start + i] !== bytes[from + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return rank;
      }
    }
  }

  /**
   * Builds the table from js-tiktoken's compact rank format, lines of
   * "<label> <first rank> <base64 token> <base64 token>…". The base64 is decoded straight from
   * that string into the byte array: no string per token, so building leaves little garbage
   * behind (a worker's memory is what it peaks at). Yields to the event loop now and then, so
   * that a lazy load in a busy process does not stall other requests.
   */
  static async fromTiktokenRanks(source: string): Promise<BpeTable> {
    const lengths: number[] = [];
    await eachToken(source, (rank, from, to) => {
      lengths[rank] = base64Length(source, from, to);
    });
    const count = lengths.length;
    const tokenStart = new Int32Array(count + 1);
    for (let rank = 0; rank < count; rank++) {
      tokenStart[rank + 1] = tokenStart[rank]! + (lengths[rank] ?? 0);
    }
    const tokenBytes = new Uint8Array(tokenStart[count]!);
    let size = 1;
    while (size < count * 2) {
      size *= 2;
    }
    const slotRank = new Int32Array(size);
    const slotHash = new Int32Array(size);
    const pairRank = new Int32Array(65536).fill(NO_RANK);
    const mask = size - 1;
    await eachToken(source, (rank, from, to) => {
      const at = tokenStart[rank]!;
      const end = at + decodeBase64(source, from, to, tokenBytes, at);
      const hash = hashBytes(tokenBytes, at, end);
      let slot = slotOf(hash, mask);
      while (slotRank[slot] !== 0) {
        slot = (slot + 1) & mask;
      }
      slotRank[slot] = rank + 1;
      slotHash[slot] = hash;
      if (end - at === 2) {
        pairRank[(tokenBytes[at]! << 8) | tokenBytes[at + 1]!] = rank;
      }
    });
    return new BpeTable(tokenBytes, tokenStart, slotRank, slotHash, pairRank);
  }
}

/** Tokens visited between two yields to the event loop. */
const TOKENS_PER_SLICE = 20_000;

async function eachToken(
  source: string,
  visit: (rank: number, from: number, to: number) => void,
): Promise<void> {
  const token = new TokenCursor(source);
  for (let visited = 1; token.next(); visited++) {
    visit(token.rank, token.from, token.to);
    if (visited % TOKENS_PER_SLICE === 0) {
      await yieldToEventLoop();
    }
  }
}

/** Walks the base64 tokens of the rank source: `rank` and its text at source[from .. to). */
class TokenCursor {
  rank = -1;
  from = 0;
  to = 0;
  private lineEnd = -1;

  constructor(private readonly source: string) {}

  next(): boolean {
    const source = this.source;
    let from = this.to + 1;
    while (from >= this.lineEnd || this.lineEnd < 0) {
      // Start the next line: "<label> <first rank> <token> <token>…".
      const lineStart = this.lineEnd + 1;
      if (lineStart >= source.length) {
        return false;
      }
      const newline = source.indexOf('\n', lineStart);
      this.lineEnd = newline < 0 ? source.length : newline;
      const labelEnd = source.indexOf(' ', lineStart);
      const rankEnd = labelEnd < 0 ? -1 : source.indexOf(' ', labelEnd + 1);
      if (rankEnd < 0 || rankEnd >= this.lineEnd) {
        this.to = this.lineEnd;
        from = this.lineEnd + 1;
        continue;
      }
      this.rank = Number.parseInt(source.slice(labelEnd + 1, rankEnd), 10) - 1;
      from = rankEnd + 1;
      break;
    }
    let to = source.indexOf(' ', from);
    if (to < 0 || to > this.lineEnd) {
      to = this.lineEnd;
    }
    this.from = from;
    this.to = to;
    this.rank++;
    return true;
  }
}

const BASE64_VALUES = new Int8Array(128).fill(-1);
[...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].forEach((c, i) => {
  BASE64_VALUES[c.charCodeAt(0)] = i;
});

function base64Length(source: string, from: number, to: number): number {
  let padding = 0;
  while (to - padding > from && source.charCodeAt(to - 1 - padding) === 61 /* = */) {
    padding++;
  }
  return Math.floor(((to - from - padding) * 3) / 4);
}

/** Decodes source[from .. to) (base64) into out[at ..]; returns the number of bytes. */
function decodeBase64(source: string, from: number, to: number, out: Uint8Array, at: number) {
  let bits = 0;
  let buffered = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    const value = BASE64_VALUES[source.charCodeAt(i)] ?? -1;
    if (value < 0) {
      break; // padding
    }
    bits = (bits << 6) | value;
    buffered += 6;
    if (buffered >= 8) {
      buffered -= 8;
      out[at + n++] = (bits >> buffered) & 0xff;
    }
  }
  return n;
}
