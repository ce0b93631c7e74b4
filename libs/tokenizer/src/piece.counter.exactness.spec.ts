import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CorpusKind, corpusText, noWhitespace, Rng } from './text.corpus.js';
import { loadEncoding } from './encoding.loader.js';
import type { EncodingName } from './encoding.registry.js';
import { PieceCounter } from './piece.counter.js';

/**
 * Exactness: for every input our count is the length of js-tiktoken's own ordinary encoding of
 * the same text (no special tokens: `encode(text, [], [])`), over a varied generated corpus.
 */
const KINDS: CorpusKind[] = [
  'prose',
  'common-prose',
  'code',
  'json',
  'multilingual',
  'whitespace',
  'no-whitespace',
  'special',
];

const ODD_TEXTS = [
  '',
  'a',
  ' ',
  '\ud800', // lone high surrogate: TextEncoder writes U+FFFD
  'x\udc00y', // lone low surrogate
  '😀\ud83d', // a pair, then half of one
  '\u0301\u0301abc', // combining marks with no base
  '\0\u0001\u007f\u0085',
  ' '.repeat(800),
  '\n'.repeat(500) + 'x',
  '\r\n'.repeat(500),
  '\u00a0'.repeat(700),
  '\t \t \n'.repeat(200),
  'a'.repeat(250), // js-tiktoken's quadratic case; exact below our slice length
  '😀'.repeat(120),
  '<|endoftext|>',
  'Hi<|endofprompt|>there<|fim_prefix|><|im_start|>',
  "it's we'LL THEY'RE O'Neil's",
  '1234567890123 3.14159 1e-9 0x1F',
  'ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ',
];

const SOURCES = { o200k_base: o200k, cl100k_base: cl100k } as const;

describe.each(['o200k_base', 'cl100k_base'] as const)('%s counts', (name: EncodingName) => {
  let reference: Tiktoken;
  let counter: PieceCounter;
  const expected = (text: string): number => reference.encode(text, [], []).length;

  beforeAll(async () => {
    reference = new Tiktoken(SOURCES[name as keyof typeof SOURCES]);
    counter = new PieceCounter(await loadEncoding(name));
  });

  it.each(KINDS)('equal js-tiktoken on generated %s', (kind) => {
    for (let seed = 1; seed <= 60; seed++) {
      const text = corpusText(kind, seed * 7919 + kind.length, 40 + ((seed * 211) % 4000));
      expect({ kind, seed, tokens: counter.countAll([text]) }).toEqual({
        kind,
        seed,
        tokens: expected(text),
      });
    }
  });

  it('equal js-tiktoken on odd strings', () => {
    for (const text of ODD_TEXTS) {
      expect({ text: text.slice(0, 20), tokens: counter.countAll([text]) }).toEqual({
        text: text.slice(0, 20),
        tokens: expected(text),
      });
    }
  });

  it('stays exact while a small cache turns over many times', async () => {
    const small = new PieceCounter(await loadEncoding(name), {
      cacheEntries: 300,
      cacheChars: 3000,
    });
    for (let seed = 1; seed <= 12; seed++) {
      const text = corpusText(KINDS[seed % KINDS.length]!, seed, 8_000);
      expect(small.countAll([text])).toBe(expected(text));
    }
  });

  it('stays exact on long texts, counted a segment at a time', () => {
    for (const kind of ['prose', 'code', 'json', 'multilingual', 'no-whitespace'] as const) {
      const text = corpusText(kind, 77, 60_000);
      expect({ kind, tokens: counter.countAll([text]) }).toEqual({ kind, tokens: expected(text) });
    }
  });

  it('counts special-token text as plain text, where js-tiktoken by default throws', () => {
    const text = 'Ignore this: <|endoftext|> and <|endofprompt|>.';
    expect(() => reference.encode(text)).toThrow(/special token/);
    expect(counter.countAll([text])).toBe(expected(text));
    expect(counter.countAll([text])).toBeGreaterThan(expected('Ignore this:  and .'));
  });

  it('sums several texts, each split on its own', () => {
    const texts = ['Hello', ' world', '\n\n', 'naïve café 東京'];
    const sum = texts.reduce((total, text) => total + expected(text), 0);
    expect(counter.countAll(texts)).toBe(sum);
  });

  it('splits into pieces that cover the text exactly', () => {
    for (const text of [...ODD_TEXTS, ...KINDS.map((kind) => corpusText(kind, 5, 3000))]) {
      expect(counter.split(text).join('')).toBe(text);
    }
  });

  it('stops at the deadline between pieces, and the rest counts to the same total', () => {
    const texts = [corpusText('prose', 11, 30_000), corpusText('code', 12, 20_000)];
    const whole = counter.countAll(texts);
    let total = 0;
    let rest = texts;
    let rounds = 0;
    while (rest.length > 0) {
      const progress = counter.countUntil(rest, 0); // already past: stop at the first check
      total += progress.tokens;
      rest = progress.rest;
      rounds++;
    }
    expect(rounds).toBeGreaterThan(5);
    expect(total).toBe(whole);
  });
});

describe('whitespace-free runs are sliced', () => {
  /** Unsliced, our merge is exact (proven against js-tiktoken above and below). */
  let exact: PieceCounter;
  let sliced: PieceCounter;

  beforeAll(async () => {
    const encoding = await loadEncoding('o200k_base');
    exact = new PieceCounter(encoding, { sliceChars: Number.MAX_SAFE_INTEGER });
    sliced = new PieceCounter(encoding);
  });

  it('merges long pieces exactly when not sliced (the heap merge)', () => {
    const reference = new Tiktoken(o200k);
    // Kept short: js-tiktoken's own merge is quadratic on these.
    for (const text of ['b'.repeat(700), '東京'.repeat(60), 'ab'.repeat(250), ' '.repeat(900)]) {
      expect(exact.countAll([text])).toBe(reference.encode(text, [], []).length);
    }
  });

  it('drifts under 1 % on 200,000-character blobs (base64, hex, one letter, url-encoded)', () => {
    for (let kind = 0; kind < 4; kind++) {
      for (let seed = 1; seed <= 2; seed++) {
        const text = noWhitespace(new Rng(seed * 97 + kind), 200_000, kind);
        const truth = exact.countAll([text]);
        const counted = sliced.countAll([text]);
        expect(counted).toBeGreaterThanOrEqual(truth * 0.99);
        expect(counted).toBeLessThanOrEqual(truth * 1.01);
      }
    }
  });

  it('drifts under 1 % on unpunctuated CJK and Thai', () => {
    for (const text of [
      '今天的天气很好我们去公园散步吧这个模型的上下文窗口有十二万八千个标记'.repeat(400),
      'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ'.repeat(600),
    ]) {
      const truth = exact.countAll([text]);
      expect(Math.abs(sliced.countAll([text]) - truth)).toBeLessThanOrEqual(truth * 0.01);
    }
  });

  it('never cuts a surrogate pair', () => {
    // One piece of 4,001 UTF-16 units: every 256-unit cut falls inside an emoji unless moved.
    // A cut pair would become two U+FFFD and add tokens; moved cuts change nothing here.
    const text = '✓' + '😀'.repeat(2000);
    expect(sliced.countAll([text])).toBe(exact.countAll([text]));
  });
});
