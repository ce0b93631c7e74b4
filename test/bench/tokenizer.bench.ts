import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { TokenCounter } from '#tokenizer';
import { type CorpusKind, corpusText, noWhitespace, Rng } from '#tokenizer';
import {
  inFreshProcess,
  measureStalls,
  median,
  megabytes,
  row,
  timeSync,
} from './support/tokenizer-measure.js';

/**
 * npm run bench:tokenizer — our TokenCounter against raw js-tiktoken and gpt-tokenizer (the
 * yardstick), o200k_base, in one run. Every call of every contender gets a fresh input drawn
 * from the generated corpus (a new seed each time), so no cache ever sees a repeated string;
 * what caches do win is the words different texts share, as in real traffic. The contenders
 * take turns going first. "ours" is the service's TokenCounter (inline, or worker threads above
 * its measured limit); "ours 1-thr" counts everything inline on one thread (it shares this
 * thread's piece cache with "ours", as two requests in one process would).
 * Then the longest event-loop stall under a mix of ~100k-token and small prompts, and the RSS
 * of a fresh process with o200k_base and cl100k_base loaded.
 */
const SCRIPT = fileURLToPath(import.meta.url);
const GPT4O = { name: 'gpt-4o', encoding: 'o200k_base', tokenMultiplier: 1 };
const SIZES = [100, 1_000, 10_000, 100_000];
const CALLS: Record<number, number> = { 100: 300, 1_000: 150, 10_000: 40, 100_000: 15 };
const KINDS: [CorpusKind, string][] = [
  ['prose', 'prose'],
  ['common-prose', 'prose, common words only'],
  ['code', 'code'],
  ['multilingual', 'multilingual + emoji'],
];
const CONTENDERS = ['ours', 'ours 1-thr', 'gpt-tokenizer', 'js-tiktoken'] as const;
type Contender = (typeof CONTENDERS)[number];
type Counters = Record<Contender, (text: string) => Promise<number> | number>;
const WIDTHS = [26, 9, 8, 9, 10, 13, 11, 8, 8];

let seed = 1;

interface Timing {
  tokens: number;
  ms: Record<Contender, number | null>;
}

/** Median ms per call of each contender, each call on a text nobody has seen. */
async function timeRow(
  counters: Counters,
  make: (seed: number) => string,
  calls: number,
  skip: Contender[] = [],
): Promise<Timing> {
  const times = Object.fromEntries(CONTENDERS.map((name) => [name, [] as number[]])) as Record<
    Contender,
    number[]
  >;
  const playing = CONTENDERS.filter((name) => !skip.includes(name));
  let tokens = 0;
  const warmUp = Math.max(3, Math.round(calls / 10));
  for (let call = -warmUp; call < calls; call++) {
    for (let turn = 0; turn < playing.length; turn++) {
      const name = playing[(turn + call + warmUp) % playing.length]!;
      const text = make(seed++);
      const started = performance.now();
      const counted = await counters[name](text);
      const ms = performance.now() - started;
      if (call >= 0) {
        times[name].push(ms);
        tokens += name === 'ours' ? counted : 0;
      }
    }
  }
  const ms = Object.fromEntries(
    CONTENDERS.map((name) => [name, skip.includes(name) ? null : median(times[name])]),
  ) as Record<Contender, number | null>;
  return { tokens: Math.round(tokens / calls), ms };
}

function printRow(label: string, size: string, t: Timing, note = ''): void {
  const ms = (value: number | null) => (value === null ? 'skipped' : value.toFixed(3));
  const ratio = (other: number | null) => (other === null ? '—' : (t.ms.ours! / other).toFixed(2));
  const cells = [label, size, t.tokens, ...CONTENDERS.map((name) => ms(t.ms[name]))];
  console.log(
    row([...cells, ratio(t.ms['gpt-tokenizer']), ratio(t.ms['js-tiktoken'])], WIDTHS) + note,
  );
}

async function stallUnderMix(counter: TokenCounter, charsPerToken: Map<CorpusKind, number>) {
  const kinds: CorpusKind[] = ['prose', 'code', 'multilingual'];
  const chars = (i: number, tokens: number) => tokens * charsPerToken.get(kinds[i % 3]!)!;
  // Texts are made before the meters start: making them is not counting.
  const large = Array.from({ length: 12 }, (_, i) =>
    corpusText(kinds[i % 3]!, 5_000_000 + i, chars(i, 100_000)),
  );
  const small = Array.from({ length: 600 }, (_, i) =>
    corpusText(kinds[i % 3]!, 6_000_000 + i, chars(i, 100 + (i % 20) * 100)),
  );
  let counted = 0;
  const report = await measureStalls(async () => {
    for (let round = 0; round < large.length; round++) {
      const big = counter.countText(large[round]!, GPT4O);
      for (const text of small.slice(round * 50, round * 50 + 50)) {
        counted += await counter.countText(text, GPT4O);
        await yieldToEventLoop(); // let timers (and other requests) in, as a server would
      }
      counted += await big;
    }
  });
  return { ...report, counted };
}

async function main(): Promise<void> {
  const ours = new TokenCounter();
  await ours.warmUp(['o200k_base', 'cl100k_base']);
  const oneThread = new TokenCounter({ poolSize: 0, inlineMaxChars: 1e12, inlineBudgetMs: 1e9 });
  const jsTiktoken = new Tiktoken(o200k);
  // Imported here, not at the top: the RSS child processes must not load the yardstick.
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  const counters: Counters = {
    ours: (text) => ours.countText(text, GPT4O),
    'ours 1-thr': (text) => oneThread.countText(text, GPT4O),
    'gpt-tokenizer': (text) => countTokens(text),
    'js-tiktoken': (text) => jsTiktoken.encode(text, [], []).length,
  };

  console.log(
    `tokenizer bench — node ${process.version}, ${availableParallelism()} cores, o200k_base; median ms ` +
      `per call, a fresh input every call; inline limit ${ours.stats.inlineMaxChars} chars (measured)`,
  );
  console.log(row(['input', 'size', 'tokens', ...CONTENDERS, 'ours/gpt', 'ours/js'], WIDTHS));
  const charsPerToken = new Map<CorpusKind, number>();
  const proseRatios = new Map<string, number>();
  for (const [kind, label] of KINDS) {
    const sample = corpusText(kind, 999_999, 200_000);
    charsPerToken.set(kind, sample.length / jsTiktoken.encode(sample, [], []).length);
    for (const size of SIZES) {
      const chars = Math.round(size * charsPerToken.get(kind)!);
      const timing = await timeRow(counters, (s) => corpusText(kind, s, chars), CALLS[size]!);
      const sizeLabel = `~${size >= 1000 ? `${size / 1000}k` : size}`;
      printRow(label, sizeLabel, timing);
      if (kind.endsWith('prose')) {
        proseRatios.set(`${label} ${sizeLabel}`, timing.ms.ours! / timing.ms['gpt-tokenizer']!);
      }
    }
  }

  const base64 = await timeRow(counters, (s) => noWhitespace(new Rng(s), 200_000, 0), 12);
  printRow('base64, no whitespace', '200,000ch', base64);
  // js-tiktoken and gpt-tokenizer merge a one-letter run in quadratic time: 200,000 chars would
  // take hours, so they are timed on 2,000 characters instead.
  const run = await timeRow(counters, (s) => noWhitespace(new Rng(s), 200_000, 2), 12, [
    'gpt-tokenizer',
    'js-tiktoken',
  ]);
  const gptShort = timeSync(() => counters['gpt-tokenizer']('z'.repeat(2_000)));
  const jsShort = timeSync(() => counters['js-tiktoken']('q'.repeat(2_000)));
  printRow(
    'one letter repeated',
    '200,000ch',
    run,
    `   (the others are quadratic here: 2,000 chars take ${gptShort.toFixed(0)} ms in ` +
      `gpt-tokenizer, ${jsShort.toFixed(0)} ms in js-tiktoken)`,
  );

  const idle = await measureStalls(() => new Promise((resolve) => setTimeout(resolve, 3_000)));
  console.log(
    `event loop idle for 3 s, for reference (other processes share these cores): longest stall ` +
      `${idle.longestDelayMs.toFixed(1)} ms, longest 1 ms-timer overrun ${idle.longestTimerGapMs.toFixed(1)} ms`,
  );
  const stall = await stallUnderMix(ours, charsPerToken);
  console.log(
    `event loop while counting 12 × ~100k-token prompts and 600 small ones (100–2,000 tokens): ` +
      `longest stall ${stall.longestDelayMs.toFixed(1)} ms (monitorEventLoopDelay max; p99 ` +
      `${stall.p99DelayMs.toFixed(1)} ms), longest 1 ms-timer overrun ${stall.longestTimerGapMs.toFixed(1)} ms; ` +
      `${stall.counted.toLocaleString('en')} tokens counted; ${JSON.stringify(ours.stats)}`,
  );
  await ours.onModuleDestroy();
  const oursRss = await inFreshProcess<{ rss: number }>(SCRIPT, '--rss-ours');
  const jsRss = await inFreshProcess<{ rss: number }>(SCRIPT, '--rss-js-tiktoken');
  console.log(
    `RSS of a fresh process with o200k_base + cl100k_base loaded: ours ${megabytes(oursRss.rss)} ` +
      `(main thread + ${availableParallelism()} workers, after counting with each); ` +
      `js-tiktoken's two Tiktoken objects, one thread: ${megabytes(jsRss.rss)}`,
  );

  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const oneK = Math.max(...[...proseRatios].filter(([k]) => k.endsWith('~1k')).map(([, v]) => v));
  const worstProse = Math.max(...proseRatios.values());
  const slowestBlob = Math.max(base64.ms.ours!, run.ms.ours!);
  const stallMs = Math.max(stall.longestDelayMs, stall.longestTimerGapMs);
  console.log(
    `targets: ~1k prose ours/gpt ≤ 1.0: ${oneK.toFixed(2)} (worse of the two prose kinds) ${verdict(oneK <= 1)}; ` +
      `every prose size ≤ 1.5: worst ${worstProse.toFixed(2)} ${verdict(worstProse <= 1.5)}; ` +
      `200,000 chars without whitespace < 100 ms: ${slowestBlob.toFixed(1)} ms ${verdict(slowestBlob < 100)}; ` +
      `longest stall ≤ 20 ms: ${stallMs.toFixed(1)} ms ${verdict(stallMs <= 20)}; ` +
      `RSS ≤ 400 MB: ${megabytes(oursRss.rss)} ${verdict(oursRss.rss <= 400 * 1_048_576)}`,
  );
}

/** Child-process modes: the RSS with both encodings loaded and nothing else running. */
async function rssOnly(flag: string): Promise<{ rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (flag === '--rss-js-tiktoken') {
    const loaded = [new Tiktoken(o200k), new Tiktoken(cl100k)];
    gc?.();
    const { rss } = process.memoryUsage();
    loaded.length = 0; // held until measured
    return { rss };
  }
  const counter = new TokenCounter();
  await counter.warmUp(['o200k_base', 'cl100k_base']);
  const cl100kModel = { name: 'gpt-4', encoding: 'cl100k_base', tokenMultiplier: 1 };
  for (const model of [GPT4O, cl100kModel]) {
    await counter.countText(corpusText('prose', 42, 450_000), model); // on the workers
    for (let i = 0; i < 20; i++) {
      await counter.countText(corpusText('code', 100 + i, 8_000), model); // inline
    }
  }
  gc?.();
  const { rss } = process.memoryUsage();
  await counter.onModuleDestroy();
  return { rss };
}

const flag = process.argv[2];
if (flag === '--rss-ours' || flag === '--rss-js-tiktoken') {
  console.log(JSON.stringify(await rssOnly(flag)));
} else {
  await main();
}
