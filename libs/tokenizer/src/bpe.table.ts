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
   * "<label> <first rank> <base64 token> <base64 token>…". Yields to the event loop now and then,
   * so that a lazy load in a busy process does not stall other requests.
   */
  static async fromTiktokenRanks(bpeRanks: string): Promise<BpeTable> {
    const tokens: string[] = [];
    for (const line of bpeRanks.split('\n')) {
      const fields = line.split(' ');
      if (fields.length < 2) {
        continue;
      }
      const offset = Number.parseInt(fields[1]!, 10);
      for (let i = 2; i < fields.length; i++) {
        tokens[offset + i - 2] = fields[i]!;
      }
    }
    const decoded: string[] = new Array<string>(tokens.length);
    let totalBytes = 0;
    for (let rank = 0; rank < tokens.length; rank++) {
      const token = tokens[rank];
      decoded[rank] = token === undefined ? '' : atob(token);
      totalBytes += decoded[rank]!.length;
    }
    const tokenBytes = new Uint8Array(totalBytes);
    const tokenStart = new Int32Array(tokens.length + 1);
    let size = 1;
    while (size < tokens.length * 2) {
      size *= 2;
    }
    const slotRank = new Int32Array(size);
    const slotHash = new Int32Array(size);
    const pairRank = new Int32Array(65536).fill(NO_RANK);
    const mask = size - 1;
    let at = 0;
    for (let rank = 0; rank < decoded.length; rank++) {
      const binary = decoded[rank]!;
      tokenStart[rank] = at;
      for (let i = 0; i < binary.length; i++) {
        tokenBytes[at + i] = binary.charCodeAt(i);
      }
      if (binary.length > 0) {
        const hash = hashBytes(tokenBytes, at, at + binary.length);
        let slot = slotOf(hash, mask);
        while (slotRank[slot] !== 0) {
          slot = (slot + 1) & mask;
        }
        slotRank[slot] = rank + 1;
        slotHash[slot] = hash;
        if (binary.length === 2) {
          pairRank[(tokenBytes[at]! << 8) | tokenBytes[at + 1]!] = rank;
        }
      }
      at += binary.length;
      if (rank % 50_000 === 49_999) {
        await yieldToEventLoop();
      }
    }
    tokenStart[decoded.length] = at;
    return new BpeTable(tokenBytes, tokenStart, slotRank, slotHash, pairRank);
  }
}
