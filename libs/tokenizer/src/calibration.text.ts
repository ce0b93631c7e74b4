/**
 * A sample for measuring inline counting speed at start: prose-like words, code-like tokens,
 * numbers and a few non-Latin characters (which make the string two-byte, the slower and more
 * common case for real prompts). Varied by seed so the timed run is not all cache hits.
 */
const WORDS = (
  'the of and to in is that for it as was with be by on not this are or from at which but have ' +
  'an they you were her she there one all we their been has would when who will more if out so ' +
  'said what up about into than them can only other time these could people request tokens ' +
  'budget limit const return function await string number => === {} [] () ; : , . ? ! - _ ' +
  'über naïve café 東京 данные ✓'
).split(' ');

export const CALIBRATION_CHARS = 32_000;

export function calibrationText(seed = 0): string {
  let state = 0x9e3779b9 ^ seed;
  const parts: string[] = [];
  let length = 0;
  while (length < CALIBRATION_CHARS) {
    // xorshift32: a different, reproducible word sequence per seed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const word = WORDS[(state >>> 0) % WORDS.length]!;
    // Every few words an invented one, as names and rare words are in real text.
    const text = (state & 7) === 0 ? word + ((state >>> 8) % 997).toString(36) : word;
    parts.push(text);
    length += text.length + 1;
  }
  return parts.join(' ');
}
