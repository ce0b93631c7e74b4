import { UnsupportedEncodingError } from '#kernel';
import type { ModelTokenization } from './tokenizer.types.js';

/** The encodings js-tiktoken ships ranks for. */
export const ENCODINGS = [
  'o200k_base',
  'cl100k_base',
  'p50k_base',
  'p50k_edit',
  'r50k_base',
  'gpt2',
] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** What a model without a catalogue encoding and without a known family prefix is counted with. */
export const DEFAULT_ENCODING: EncodingName = 'o200k_base';

/**
 * Families by name prefix, for catalogue rows whose `encoding` is NULL. Longest prefix wins, so
 * `gpt-4o…` and `gpt-4.1…` are o200k while the older `gpt-4…` is cl100k. We do not ask
 * js-tiktoken: its lookup throws on any name it has not heard of (every dated snapshot, every
 * fine-tune).
 */
const FAMILY_PREFIXES: readonly (readonly [string, EncodingName])[] = (
  [
    ['gpt-4o', 'o200k_base'],
    ['gpt-4.1', 'o200k_base'],
    ['gpt-4.5', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['o1', 'o200k_base'],
    ['o3', 'o200k_base'],
    ['o4', 'o200k_base'],
    ['chatgpt-4o', 'o200k_base'],
    ['gpt-oss', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-3.5', 'cl100k_base'],
    ['gpt-35', 'cl100k_base'],
    ['text-embedding-3', 'cl100k_base'],
    ['text-embedding-ada-002', 'cl100k_base'],
    ['davinci-002', 'cl100k_base'],
    ['babbage-002', 'cl100k_base'],
    ['text-davinci-003', 'p50k_base'],
    ['text-davinci-002', 'p50k_base'],
  ] as const
)
  .slice()
  .sort((a, b) => b[0].length - a[0].length);

export function isEncodingName(name: string): name is EncodingName {
  return (ENCODINGS as readonly string[]).includes(name);
}

/** The encoding a model is counted with: the catalogue's choice, else its family, else o200k. */
export function encodingForModel(model: ModelTokenization): EncodingName {
  const configured = model.encoding?.trim().toLowerCase();
  if (configured) {
    if (!isEncodingName(configured)) {
      throw new UnsupportedEncodingError(model.name, model.encoding!, ENCODINGS);
    }
    return configured;
  }
  const name = familyName(model.name);
  for (const [prefix, encoding] of FAMILY_PREFIXES) {
    if (name.startsWith(prefix)) {
      return encoding;
    }
  }
  return DEFAULT_ENCODING;
}

/** `ft:gpt-4o-mini:org::id` and `openai/gpt-4o` name the same family as `gpt-4o-mini`. */
function familyName(name: string): string {
  let family = name.trim().toLowerCase();
  if (family.startsWith('ft:')) {
    family = family.slice(3);
  }
  return family.slice(family.lastIndexOf('/') + 1);
}
