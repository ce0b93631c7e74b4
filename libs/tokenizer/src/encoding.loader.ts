import type { TiktokenBPE } from 'js-tiktoken/lite';
import { BpeTable } from './bpe.table.js';
import type { EncodingName } from './encoding.registry.js';

/** What counting needs of one encoding: js-tiktoken's split pattern and its ranks as a table. */
export interface LoadedEncoding {
  readonly name: EncodingName;
  /** js-tiktoken's `pat_str` with its groups made non-capturing (same matches, less work). */
  readonly pattern: string;
  readonly table: BpeTable;
}

/** Literal imports so that `tsc` and bundlers see every rank file we may load. */
const RANK_FILES: Record<EncodingName, () => Promise<{ default: TiktokenBPE }>> = {
  o200k_base: () => import('js-tiktoken/ranks/o200k_base'),
  cl100k_base: () => import('js-tiktoken/ranks/cl100k_base'),
  p50k_base: () => import('js-tiktoken/ranks/p50k_base'),
  p50k_edit: () => import('js-tiktoken/ranks/p50k_edit'),
  r50k_base: () => import('js-tiktoken/ranks/r50k_base'),
  gpt2: () => import('js-tiktoken/ranks/gpt2'),
};

const loaded = new Map<EncodingName, Promise<LoadedEncoding>>();

/** Loads an encoding once per thread, on first use; concurrent callers share one promise. */
export function loadEncoding(name: EncodingName): Promise<LoadedEncoding> {
  let encoding = loaded.get(name);
  if (encoding === undefined) {
    encoding = build(name);
    loaded.set(name, encoding);
    // A failed load must not poison the thread: the next caller tries again.
    encoding.catch(() => loaded.delete(name));
  }
  return encoding;
}

async function build(name: EncodingName): Promise<LoadedEncoding> {
  const source = (await RANK_FILES[name]()).default;
  const table = await BpeTable.fromTiktokenRanks(source.bpe_ranks);
  return { name, pattern: nonCapturing(source.pat_str), table };
}

/** `(` that opens a group (not escaped, not already `(?`) becomes `(?:`. */
function nonCapturing(pattern: string): string {
  return pattern.replace(/(?<!\\)\((?!\?)/g, '(?:');
}
