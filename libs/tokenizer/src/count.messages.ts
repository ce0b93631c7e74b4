import type { EncodingName } from './encoding.registry.js';

/** What the pool asks a counting worker. */
export type CountRequest =
  | { id: number; kind: 'count'; encoding: EncodingName; texts: string[] }
  | { id: number; kind: 'load'; encodings: EncodingName[] };

/** A worker's answer: the tokens of a `count` (0 for a `load`), or why it failed. */
export type CountReply = { id: number; tokens: number } | { id: number; error: string };
