/**
 * A varied, reproducible text corpus generated in code (no network, no datasets): English-like
 * prose with a Zipf-distributed vocabulary, source code, minified JSON, multilingual text with
 * emoji, whitespace runs and whitespace-free blobs. Every generator takes a seed, so the
 * tokenizer bench can draw a fresh input for every call (no cache wins on a repeated string) and
 * the exactness spec can cover thousands of distinct inputs deterministically.
 */

/** mulberry32: tiny, fast, good enough for test data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** Index with probability ∝ 1/(rank+1): a natural language's word frequencies. */
  zipf(size: number): number {
    return Math.min(size - 1, Math.floor(Math.exp(this.next() * Math.log(size + 1))) - 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

const COMMON = (
  'the of and to in a is that for it as was with be by on not he I this are or his from at ' +
  'which but have an they you were her she there one all we their been has would when who will ' +
  'more no if out so said what up its about into than them can only other new some could time ' +
  'these two may then do first any my now such like our over man me even most made after also ' +
  'did many before must through back years where much your way well down should because each ' +
  'just those people how too little state good very make world still own see men work long get ' +
  'here between both life being under never day same another know while last might us great ' +
  'old year off come since against go came right used take three himself few house use during ' +
  'without again place around however home small found thought went say part once general high ' +
  'upon school every does got united left number course war until always away something fact ' +
  'though water less public put think almost hand enough far took head yet government system ' +
  'better set told nothing night end why called eyes find going look asked later knew point ' +
  'next program city business give group toward young days let room president side social ' +
  'given present several order national possible rather second face per among form important ' +
  'often things looked early white case large become large need big four within felt along ' +
  'children saw best church ever least power development light thing seemed family interest ' +
  'want members mind country area others done turned although open problem certain kind began ' +
  'different door thus help sense means whole matter perhaps itself york times law human line ' +
  'above name example action company hands local show whether five history gave today either ' +
  'act feet across taken past quite anything seen having death week experience body word half ' +
  'really field am car words already themselves information tell college shall money period ' +
  'held keep sure probably free seems political real behind cannot miss question air office ' +
  'making brought whose special major heard problems federal became study ago moment available ' +
  'known result street economic boy reason change position south board individual job areas ' +
  'society west close turn love community true court force full seem am policy control budget ' +
  'inference latency throughput tokenizer request reservation subject tier bucket ledger refund'
).split(' ');

const SYLLABLES = (
  'ka ri to mo ne sa lu vi an en in on un ber cal dor fen gal hin jor kel lam mir nor pel ' +
  'quin ras sel tor ul ven wex yor zan tion ment ing ly er est ous ive able pre con dis re ' +
  'ex str th ch sh ph gr pl tr bl cr fl sp st'
).split(' ');

const CONTRACTIONS = ["don't", "it's", "we'll", "they're", "I've", "can't", "she'd", "you'll"];

function pseudoWord(rng: Rng): string {
  let word = '';
  const syllables = 1 + rng.int(4);
  for (let i = 0; i < syllables; i++) {
    word += rng.pick(SYLLABLES);
  }
  return word;
}

function proseWord(rng: Rng): string {
  const roll = rng.next();
  if (roll < 0.8) {
    return COMMON[rng.zipf(COMMON.length)]!;
  }
  if (roll < 0.93) {
    return pseudoWord(rng);
  }
  if (roll < 0.96) {
    return rng.pick(CONTRACTIONS);
  }
  if (roll < 0.98) {
    return String(rng.int(rng.chance(0.5) ? 100 : 100_000));
  }
  return rng.pick(['1999', '2024', '3.14', '42%', '$19.99', 'U.S.', 'e.g.', 'GPT-4o', 'API']);
}

/** English-like prose of about `chars` characters. */
export function prose(rng: Rng, chars: number): string {
  const out: string[] = [];
  let length = 0;
  while (length < chars) {
    const words = 6 + rng.int(18);
    let sentence = '';
    for (let w = 0; w < words; w++) {
      let word = proseWord(rng);
      const roll = rng.next();
      if (w === 0) {
        word = word.charAt(0).toUpperCase() + word.slice(1);
      } else if (roll < 0.02) {
        word = `(${word})`;
      } else if (roll < 0.04) {
        word = `"${word}"`;
      } else if (roll < 0.05) {
        word = `“${word}”`;
      }
      if (w > 0 && w < words - 1 && rng.chance(0.07)) {
        word += rng.pick([',', ',', ',', ';', ':', ' —']);
      }
      sentence += (w === 0 ? '' : ' ') + word;
    }
    sentence += rng.pick(['.', '.', '.', '.', '?', '!', '...']);
    sentence += rng.chance(0.12) ? '\n\n' : ' ';
    out.push(sentence);
    length += sentence.length;
  }
  return out.join('');
}

/**
 * Prose of common words only (no names, numbers or rare words): the friendliest case for any
 * cache, and so the yardstick's best case.
 */
export function commonProse(rng: Rng, chars: number): string {
  let text = '';
  let words = 0;
  while (text.length < chars) {
    const word = COMMON[rng.zipf(COMMON.length)]!;
    text += words === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word;
    words++;
    if (words > 8 && rng.chance(0.12)) {
      text += '. ';
      words = 0;
    } else {
      text += rng.chance(0.05) ? ', ' : ' ';
    }
  }
  return text;
}

const KEYWORDS = ['const', 'let', 'return', 'if', 'else', 'for', 'while', 'async', 'await', 'new'];
const TYPES = ['string', 'number', 'boolean', 'Promise<void>', 'Map<string, number>', 'unknown'];

function identifier(rng: Rng): string {
  const first = rng.chance(0.5) ? rng.pick(COMMON) : pseudoWord(rng);
  const second = rng.chance(0.6) ? pseudoWord(rng) : rng.pick(COMMON);
  const camel = first + second.charAt(0).toUpperCase() + second.slice(1);
  return rng.chance(0.2) ? camel.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()) : camel;
}

/** TypeScript- and Python-like source of about `chars` characters. */
export function code(rng: Rng, chars: number): string {
  const out: string[] = [];
  let length = 0;
  while (length < chars) {
    const indent = rng.pick(['', '  ', '    ', '\t', '        ']);
    const a = identifier(rng);
    const b = identifier(rng);
    let line: string;
    switch (rng.int(9)) {
      case 0:
        line = `${indent}const ${a}: ${rng.pick(TYPES)} = ${b}(${rng.int(1000)}, '${pseudoWord(rng)}');`;
        break;
      case 1:
        line = `${indent}if (${a} >= ${rng.int(64)} && !${b}) {`;
        break;
      case 2:
        line = `${indent}}`;
        break;
      case 3:
        line = `${indent}// ${prose(rng, 30 + rng.int(60)).trim()}`;
        break;
      case 4:
        line = `${indent}def ${a}(self, ${b}=None):\n${indent}    return self.${b}[${rng.int(9)}] ** 2`;
        break;
      case 5:
        line = `${indent}${rng.pick(KEYWORDS)} ${a} = await this.${b}.get(\`${a}:\${${b}}\`);`;
        break;
      case 6:
        line = `${indent}for (let i = 0; i < ${a}.length; i++) { ${b} += ${a}[i] * 0x${rng.int(65536).toString(16)}; }`;
        break;
      case 7:
        line = `${indent}export function ${a}(${b}: ${rng.pick(TYPES)}): ${rng.pick(TYPES)} {`;
        break;
      default:
        line = `${indent}${a}.${b}({ ${a}: ${rng.int(100)}, '${b}': [${rng.int(9)}, ${rng.int(9)}], ok: true });`;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join(rng.chance(0.9) ? '\n' : '\r\n') + '\n';
}

function jsonValue(rng: Rng, depth: number): unknown {
  const roll = rng.int(depth > 3 ? 4 : 7);
  switch (roll) {
    case 0:
      return rng.int(1_000_000) / (rng.chance(0.5) ? 1 : 100);
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.chance(0.3) ? null : pseudoWord(rng);
    case 3:
      return prose(rng, 10 + rng.int(40)).trim();
    case 4:
    case 5: {
      const object: Record<string, unknown> = {};
      for (let i = rng.int(6); i >= 0; i--) {
        object[identifier(rng)] = jsonValue(rng, depth + 1);
      }
      return object;
    }
    default:
      return Array.from({ length: rng.int(5) }, () => jsonValue(rng, depth + 1));
  }
}

/** Minified JSON of about `chars` characters (an array of records). */
export function minifiedJson(rng: Rng, chars: number): string {
  const records: unknown[] = [];
  let length = 2;
  while (length < chars) {
    const record = { id: rng.int(1e9), [identifier(rng)]: jsonValue(rng, 0), é: 'ü\u00e9\u4e2d' };
    records.push(record);
    length += JSON.stringify(record).length + 1;
  }
  return JSON.stringify(records);
}

const PHRASES = [
  '今天的天气很好，我们去公园散步吧。',
  '这个模型的上下文窗口有十二万八千个标记',
  '東京の桜は三月の終わりに咲き始めます。',
  'トークンの数を正確に数える必要があります',
  '서울은 한국의 수도이며 인구가 많습니다.',
  'Москва — столица России, крупнейший город страны.',
  'Привет! Как дела? Всё хорошо, спасибо.',
  'اللغة العربية تكتب من اليمين إلى اليسار.',
  'नमस्ते, आप कैसे हैं? मैं ठीक हूँ।',
  'Η γλώσσα είναι το σπίτι του είναι.',
  'עברית נכתבת מימין לשמאל.',
  'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ',
  'Tiếng Việt có nhiều dấu thanh điệu khác nhau.',
  'Größere Straßen führen über die Brücke nach Köln.',
  "L'été dernier, nous sommes allés à la plage près de Nîmes.",
  'El niño comió piñata y bebió café con azúcar.',
  'İstanbul, Türkiye’nin en kalabalık şehridir.',
  'Zażółć gęślą jaźń — pchnąć w tę łódź jeża.',
];

const EMOJI = [
  '😀',
  '🚀',
  '👍🏽',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈',
  '🇯🇵',
  '🇫🇷',
  '❤️',
  '🤖',
  '✨',
  '🧑🏿‍💻',
  '☕',
  '🎉🎉🎉',
  '👩🏻‍🔬',
];

/** Mixed-script text with emoji (ZWJ sequences, skin tones, flags) and some English. */
export function multilingual(rng: Rng, chars: number): string {
  const out: string[] = [];
  let length = 0;
  while (length < chars) {
    let chunk = rng.pick(PHRASES);
    if (rng.chance(0.3)) {
      chunk = chunk.slice(0, 1 + rng.int(chunk.length));
    }
    if (rng.chance(0.35)) {
      chunk += ' ' + rng.pick(EMOJI);
    }
    if (rng.chance(0.25)) {
      chunk += ' ' + proseWord(rng) + ' ' + proseWord(rng) + ' ' + String(rng.int(10_000));
    }
    chunk += rng.pick([' ', ' ', '\n', '', '  ']);
    out.push(chunk);
    length += chunk.length;
  }
  return out.join('');
}

const SPACES = [' ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2003', '\f', '\v'];

/** Words separated by runs of every kind of whitespace, 1 to 300 characters long. */
export function whitespaceRuns(rng: Rng, chars: number): string {
  let text = '';
  while (text.length < chars) {
    text += proseWord(rng);
    const run = rng.chance(0.9) ? 1 + rng.int(4) : 1 + rng.int(300);
    const kind = rng.pick(SPACES);
    for (let i = 0; i < run; i += kind.length) {
      text += rng.chance(0.9) ? kind : rng.pick(SPACES);
    }
  }
  return text;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A whitespace-free blob: base64, hex, one repeated letter, or a URL-encoded string. */
export function noWhitespace(rng: Rng, chars: number, kind = rng.int(4)): string {
  let text = '';
  switch (kind) {
    case 0:
      while (text.length < chars) {
        text += BASE64[rng.int(64)];
      }
      return text + '==';
    case 1:
      while (text.length < chars) {
        text += rng.int(16).toString(16);
      }
      return text;
    case 2:
      return rng.pick([...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ']).repeat(chars);
    default:
      while (text.length < chars) {
        text += rng.chance(0.2)
          ? '%' + rng.int(256).toString(16).padStart(2, '0')
          : pseudoWord(rng);
      }
      return text;
  }
}

/** Text with the encodings' special tokens in it: ordinary encoding counts them as plain text. */
export function withSpecialTokens(rng: Rng): string {
  const specials = ['<|endoftext|>', '<|endofprompt|>', '<|fim_prefix|>', '<|im_start|>', '<|'];
  return `${prose(rng, 40)} ${rng.pick(specials)}${rng.pick(specials)} ${prose(rng, 40)}`;
}

export type CorpusKind =
  | 'prose'
  | 'common-prose'
  | 'code'
  | 'json'
  | 'multilingual'
  | 'whitespace'
  | 'no-whitespace'
  | 'special';

/** One text of the given kind; `chars` is a target, not an exact length. */
export function corpusText(kind: CorpusKind, seed: number, chars: number): string {
  const rng = new Rng(seed);
  switch (kind) {
    case 'prose':
      return prose(rng, chars);
    case 'common-prose':
      return commonProse(rng, chars);
    case 'code':
      return code(rng, chars);
    case 'json':
      return minifiedJson(rng, chars);
    case 'multilingual':
      return multilingual(rng, chars);
    case 'whitespace':
      return whitespaceRuns(rng, chars);
    case 'no-whitespace':
      // Base64, hex or url-encoded: natural pieces. One-letter runs are the sliced case, apart.
      return noWhitespace(rng, chars, rng.pick([0, 1, 3]));
    case 'special':
      return withSpecialTokens(rng);
  }
}
