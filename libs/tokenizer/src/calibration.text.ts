/**
 * A sample for measuring inline counting speed at start: common words, invented ones (as names
 * and rare words are in real text, about one word in five), numbers, punctuation and a few
 * non-Latin characters (which make the string two-byte, the slower and more common case for
 * real prompts). Varied by seed so that a timed run is not all cache hits.
 */
const WORDS = (
  'the of and to in is that for it as was with be by on not this are or from at which but have ' +
  'an they you were her she there one all we their been has would when who will more if out so ' +
  'said what up about into than them can only other time these could people request tokens ' +
  'budget limit const return function await string number => === {} [] () ; : , . ? ! - _ ' +
  'über naïve café 東京 данные ✓'
).split(' ');
const SYLLABLES =
  'ka ri to mo ne sa lu vi an en ber cal dor fen gal hin tion ment ing ly er est'.split(' ');

const CALIBRATION_CHARS = 32_000;

export function calibrationText(seed = 0): string {
  let state = (0x9e3779b9 ^ seed) >>> 0 || 1;
  const next = (): number => {
    // xorshift32: a different, reproducible sequence per seed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < CALIBRATION_CHARS) {
    const roll = next() % 20;
    let word: string;
    if (roll < 4) {
      word = '';
      for (let syllables = 2 + (next() % 3); syllables > 0; syllables--) {
        word += SYLLABLES[next() % SYLLABLES.length];
      }
    } else if (roll === 4) {
      word = String(next() % 100_000);
    } else {
      word = WORDS[next() % WORDS.length]!;
    }
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}
