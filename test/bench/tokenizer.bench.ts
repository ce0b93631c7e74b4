import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { TokenCounter } from '../../libs/tokenizer/src/index.js';
import { type CorpusKind, corpusText, noWhitespace, Rng } from './support/text-corpus.js';
import {
  inFreshProcess,
  measureStalls,
  median,
  megabytes,
  row,
  timeAsync,
  timeSync,
} from './support/tokenizer-measure.js';

/**
 * npm run bench:tokenizer — our TokenCounter against raw js-tiktoken and gpt-tokenizer (the
 * yardstick), o200k_base, in one run. Every call of every contender gets a fresh input drawn
 * from the generated corpus (a new seed each time), so no cache ever sees a repeated string;
 * what the caches do win is the common words shared by different texts, as in real traffic.
 * Then the longest event-loop stall under a mix of ~100k-token and small prompts, and the RSS
 * of a fresh process with o200k_base and cl100k_base loaded.
 */
const SCRIPT = fileURLToPath(import.meta.url);
const GPT4O = { name: 'gpt-4o', encoding: 'o200k_base', tokenMultiplier: 1 };
const SIZES = [100, 1_000, 10_000, 100_000];
const CALLS: Record<number, number> = { 100: 300, 1_000: 150, 10_000: 30, 100_000: 9 };
const WIDTHS = [26, 8, 10, 12, 12, 12, 9, 9];

let seed = 1;
const fresh = (make: (seed: number) => string) => (): string => make(seed++);

interface Contenders {
  gptTokenizer: (text: string) => number;
  ours: TokenCounter;
  oursOneThread: TokenCounter;
  jsTiktoken: Tiktoken;
}

interface Timing {
  tokens: number;
  ours: number;
  oneThread: number;
  gpt: number;
  js: number | null;
}

async function timeRow(c: Contenders, next: () => string, calls: number, withJs = true) {
  const times = { ours: [] as number[], oneThread: [] as number[], gpt: [] as number[] };
  const js: number[] = [];
  let tokens = 0;
  const warm = Math.max(3, Math.round(calls / 10));
  for (let call = -warm; call < calls; call++) {
    const [a, b, g, j] = [next(), next(), next(), next()];
    let counted = 0;
    const ours = await timeAsync(async () => (counted = await c.ours.countText(a, GPT4O)));
    const oneThread = await timeAsync(() => c.oursOneThread.countText(b, GPT4O));
    const gpt = timeSync(() => c.gptTokenizer(g));
    const raw = withJs ? timeSync(() => c.jsTiktoken.encode(j, [], []).length) : 0;
    if (call >= 0) {
      times.ours.push(ours);
      times.oneThread.push(oneThread);
      times.gpt.push(gpt);
      js.push(raw);
      tokens += counted;
    }
  }
  return {
    tokens: Math.round(tokens / calls),
    ours: median(times.ours),
    oneThread: median(times.oneThread),
    gpt: median(times.gpt),
    js: withJs ? median(js) : null,
  } satisfies Timing;
}

function printRow(label: string, size: string, t: Timing): void {
  const ms = (value: number | null) => (value === null ? 'skipped' : value.toFixed(3));
  const ratio = (value: number | null) => (value === null ? '—' : (t.ours / value).toFixed(2));
  console.log(
    row(
      [
        label,
        size,
        t.tokens,
        ms(t.ours),
        ms(t.oneThread),
        ms(t.gpt),
        ms(t.js),
        ratio(t.gpt),
        ratio(t.js),
      ],
      WIDTHS,
    ),
  );
}

/** Characters per token of each kind, so that "~1k tokens" means about 1,000 tokens. */
async function charsPerToken(counter: TokenCounter, kind: CorpusKind): Promise<number> {
  const sample = corpusText(kind, 999_999, 200_000);
  return sample.length / (await counter.countText(sample, GPT4O));
}

async function stallUnderMix(counter: TokenCounter, perToken: Record<string, number>) {
  const kinds: CorpusKind[] = ['prose', 'code', 'multilingual'];
  const large = Array.from({ length: 12 }, (_, i) =>
    corpusText(kinds[i % 3]!, 5_000_000 + i, 100_000 * perToken[kinds[i % 3]!]!),
  );
  const small = Array.from({ length: 600 }, (_, i) =>
    corpusText(kinds[i % 3]!, 6_000_000 + i, (100 + (i % 20) * 100) * perToken[kinds[i % 3]!]!),
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
  const flag = process.argv[2];
  if (flag === '--rss-ours' || flag === '--rss-js-tiktoken') {
    console.log(JSON.stringify(await rssOnly(flag)));
    return;
  }
  const ours = new TokenCounter();
  const oursOneThread = new TokenCounter({
    poolSize: 0,
    inlineMaxChars: 1e12,
    inlineBudgetMs: 1e9,
  });
  await ours.warmUp(['o200k_base', 'cl100k_base']);
  // Imported here, not at the top: the RSS child processes must not load the yardstick.
  const { countTokens } = await import('gpt-tokenizer/encoding/o200k_base');
  const contenders: Contenders = {
    gptTokenizer: (text) => countTokens(text),
    ours,
    oursOneThread,
    jsTiktoken: new Tiktoken(o200k),
  };

  console.log(
    `tokenizer bench — node ${process.version}, ${availableParallelism()} cores, o200k_base; ` +
      `median ms per call, a fresh input every call; inline limit ${ours.stats.inlineMaxChars} chars (measured)`,
  );
  console.log(
    row(
      [
        'input',
        'size',
        'tokens',
        'ours',
        'ours 1-thr',
        'gpt-tokenizer',
        'js-tiktoken',
        'ours/gpt',
        'ours/js',
      ],
      WIDTHS,
    ),
  );
  const perToken: Record<string, number> = {};
  const proseRatios: number[] = [];
  for (const kind of ['prose', 'code', 'multilingual'] as const) {
    perToken[kind] = await charsPerToken(ours, kind);
    for (const size of SIZES) {
      const chars = Math.round(size * perToken[kind]!);
      const timing = await timeRow(
        contenders,
        fresh((s) => corpusText(kind, s, chars)),
        CALLS[size]!,
      );
      printRow(kind, `~${size >= 1000 ? `${size / 1000}k` : size}`, timing);
      if (kind === 'prose') {
        proseRatios.push(timing.ours / timing.gpt);
      }
    }
  }
  const blobs: number[] = [];
  for (const [label, kind] of [
    ['base64, no whitespace', 0],
    ['one letter repeated', 2],
  ] as const) {
    const blob = fresh((s) => noWhitespace(new Rng(s), 200_000, kind));
    // js-tiktoken and gpt-tokenizer merge a one-letter run in quadratic time: 200,000 chars
    // would take hours, so they are timed on 2,000 chars below instead.
    const withOthers = kind === 0;
    const timing = withOthers
      ? await timeRow(contenders, blob, 12)
      : { ...(await timeRow(contenders, blob, 12, false)), gpt: Number.NaN };
    blobs.push(timing.ours);
    if (withOthers) {
      printRow(label, '200,000ch', timing);
    } else {
      const shortRun = 'q'.repeat(2_000);
      const js = timeSync(() => contenders.jsTiktoken.encode(shortRun, [], []));
      const gpt = timeSync(() => contenders.gptTokenizer('z'.repeat(2_000)));
      console.log(
        row(
          [
            label,
            '200,000ch',
            timing.tokens,
            timing.ours.toFixed(3),
            timing.oneThread.toFixed(3),
            'skipped',
            'skipped',
            '—',
            '—',
          ],
          WIDTHS,
        ) +
          `   (quadratic elsewhere: 2,000 chars take ${gpt.toFixed(0)} ms in gpt-tokenizer, ${js.toFixed(0)} ms in js-tiktoken)`,
      );
    }
  }

  const idle = await measureStalls(() => new Promise((resolve) => setTimeout(resolve, 3_000)));
  console.log(
    `event loop idle for 3 s, for reference (other processes share these cores): ` +
      `longest stall ${idle.longestDelayMs.toFixed(1)} ms, longest 1 ms-timer overrun ${idle.longestTimerGapMs.toFixed(1)} ms`,
  );
  const stall = await stallUnderMix(ours, perToken);
  console.log(
    `event loop while counting 12 × ~100k-token prompts and 600 small ones (100–2,000 tokens): ` +
      `longest stall ${stall.longestDelayMs.toFixed(1)} ms (monitorEventLoopDelay max; p99 ${stall.p99DelayMs.toFixed(1)} ms), ` +
      `longest 1 ms-timer overrun ${stall.longestTimerGapMs.toFixed(1)} ms; ${stall.counted.toLocaleString('en')} tokens counted`,
  );
  const oursRss = await inFreshProcess<{ rss: number; heapUsed: number }>(SCRIPT, '--rss-ours');
  const jsRss = await inFreshProcess<{ rss: number }>(SCRIPT, '--rss-js-tiktoken');
  console.log(
    `RSS, fresh process, o200k_base + cl100k_base loaded: ours ${megabytes(oursRss.rss)} ` +
      `(main thread + ${availableParallelism()} workers, after counting ~100k tokens with each), ` +
      `js-tiktoken's Tiktoken objects alone ${megabytes(jsRss.rss)} (one thread)`,
  );
  await ours.onModuleDestroy();

  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
  const oneK = proseRatios[1]!;
  const worstProse = Math.max(...proseRatios);
  const slowestBlob = Math.max(...blobs);
  const stallMs = Math.max(stall.longestDelayMs, stall.longestTimerGapMs);
  console.log(
    `targets: ~1k prose ours/gpt ${oneK.toFixed(2)} ≤ 1.0 ${verdict(oneK <= 1)}; ` +
      `every prose size ≤ 1.5 (worst ${worstProse.toFixed(2)}) ${verdict(worstProse <= 1.5)}; ` +
      `200,000 chars without whitespace ${slowestBlob.toFixed(1)} ms < 100 ms ${verdict(slowestBlob < 100)}; ` +
      `longest stall ${stallMs.toFixed(1)} ms ≤ 20 ms ${verdict(stallMs <= 20)}; ` +
      `RSS ${megabytes(oursRss.rss)} ≤ 400 MB ${verdict(oursRss.rss <= 400 * 1_048_576)}`,
  );
}

/** Child-process modes: report the RSS with both encodings loaded, nothing else running. */
async function rssOnly(flag: string): Promise<{ rss: number; heapUsed: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (flag === '--rss-js-tiktoken') {
    const loaded = [new Tiktoken(o200k), new Tiktoken(cl100k)];
    gc?.();
    const usage = process.memoryUsage();
    loaded.length = 0; // held until measured
    return { rss: usage.rss, heapUsed: usage.heapUsed };
  }
  const counter = new TokenCounter();
  await counter.warmUp(['o200k_base', 'cl100k_base']);
  const cl100kModel = { name: 'gpt-4', encoding: 'cl100k_base', tokenMultiplier: 1 };
  for (const model of [GPT4O, cl100kModel]) {
    await counter.countText(corpusText('prose', 42, 450_000), model); // on the workers
    for (let i = 0; i < 20; i++) {
      await counter.countText(corpusText('code', 100 + i, 20_000), model); // inline
    }
  }
  gc?.();
  const usage = process.memoryUsage();
  await counter.onModuleDestroy();
  return { rss: usage.rss, heapUsed: usage.heapUsed };
}

await main();
