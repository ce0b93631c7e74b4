/**
 * Spreading one count over several worker threads. Texts are cut only where every encoding's
 * pre-tokenization cuts anyway — at a space that follows a letter or digit and precedes a letter
 * (" word" always starts a piece, and no piece runs across it) — so the parts' counts add up to
 * exactly the whole's.
 */

/** `text[k]` is a space between a letter/digit and a letter. */
const SAFE_CUT = /(?<=[\p{L}\p{N}]) (?=\p{L})/gu;

/** How far past the ideal cut we look for a safe one before giving up on that cut. */
const CUT_WINDOW = 4096;

/** The first safe cut at or after `near` (and within the window), or -1. */
export function safeCutAfter(text: string, near: number): number {
  SAFE_CUT.lastIndex = near;
  const match = SAFE_CUT.exec(text);
  return match !== null && match.index - near <= CUT_WINDOW ? match.index : -1;
}

/** Cuts a text into segments of about `size` characters at safe cuts. */
export function cutText(text: string, size: number): string[] {
  const segments: string[] = [];
  let from = 0;
  while (text.length - from > size * 1.5) {
    const cut = safeCutAfter(text, from + size);
    if (cut < 0) {
      break;
    }
    segments.push(text.slice(from, cut));
    from = cut;
  }
  segments.push(from === 0 ? text : text.slice(from));
  return segments;
}

/**
 * At most `parts` batches of similar total length, none smaller than about `minChars` unless
 * the input is: small inputs stay whole (one message to one worker is cheaper than two).
 */
export function partitionTexts(
  texts: readonly string[],
  parts: number,
  minChars: number,
): string[][] {
  let total = 0;
  for (const text of texts) {
    total += text.length;
  }
  const batches = Math.max(1, Math.min(parts, Math.floor(total / minChars)));
  if (batches === 1) {
    return [texts.slice()];
  }
  const size = Math.ceil(total / batches);
  const segments = texts.flatMap((text) => (text.length > size ? cutText(text, size) : [text]));
  // Longest first, each to the lightest batch: within 4/3 of the best split, and simple.
  segments.sort((a, b) => b.length - a.length);
  const out: string[][] = Array.from({ length: batches }, () => []);
  const loads = new Array<number>(batches).fill(0);
  for (const segment of segments) {
    let lightest = 0;
    for (let b = 1; b < batches; b++) {
      if (loads[b]! < loads[lightest]!) {
        lightest = b;
      }
    }
    out[lightest]!.push(segment);
    loads[lightest]! += segment.length;
  }
  return out.filter((batch) => batch.length > 0);
}
