/**
 * Where a text may be cut so that its parts' pieces are exactly the whole's pieces, for every
 * encoding's pre-tokenization: before a letter that follows a space that follows a letter or
 * digit (" word" always starts a piece and no piece runs across it), or before a letter that
 * follows a digit (no piece holds both). The piece before such a cut never ends in whitespace,
 * so the patterns' one lookahead, `\s+(?!\S)`, sees nothing different either. Used to count a
 * long text in segments and to spread one count over several workers.
 */
const SAFE_CUT = /(?<=[\p{L}\p{N}]) (?=\p{L})|(?<=\p{N})(?=\p{L})/gu;

/** How far past the ideal cut partitionTexts looks for a safe one. */
const CUT_WINDOW = 4096;

/** The first safe cut at or after `near` and at most `window` past it, or -1. */
export function safeCutAfter(text: string, near: number, window = CUT_WINDOW): number {
  SAFE_CUT.lastIndex = near;
  const match = SAFE_CUT.exec(text);
  return match !== null && match.index - near <= window ? match.index : -1;
}

/**
 * At most `parts` batches of about equal length, in order (joined, they are the input), none
 * smaller than about `minChars` unless the input is: a small input stays whole, since one message
 * to one worker is cheaper than two. A text is cut where a batch is full, at the next safe cut;
 * a text with no safe cut nearby (one long blob) stays whole in its batch.
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
  const count = Math.max(1, Math.min(parts, Math.floor(total / minChars)));
  if (count === 1) {
    return [texts.slice()];
  }
  const size = Math.ceil(total / count);
  const batches: string[][] = [];
  let batch: string[] = [];
  let room = size;
  const close = (): void => {
    batches.push(batch);
    batch = [];
    room = size;
  };
  for (const text of texts) {
    let rest = text;
    while (rest.length > room && batches.length < count - 1) {
      const cut = safeCutAfter(rest, room);
      if (cut <= 0) {
        break;
      }
      batch.push(rest.slice(0, cut));
      rest = rest.slice(cut);
      close();
    }
    batch.push(rest);
    room -= rest.length;
    if (room <= 0 && batches.length < count - 1) {
      close();
    }
  }
  if (batch.length > 0) {
    batches.push(batch);
  }
  return batches;
}
