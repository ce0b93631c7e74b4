import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { calibrationText } from './calibration.text.js';
import { planChat } from './chat.rules.js';
import { CountPool } from './count.pool.js';
import { type EncodingName, encodingForModel, isEncodingName } from './encoding.registry.js';
import { loadPieceCounter, type PieceCounter } from './piece.counter.js';
import { applyTokenMultiplier } from './token.multiplier.js';
import type { ChatMessage, ModelTokenization, ToolDefinition } from './tokenizer.types.js';
import type { UpstreamRequest } from './upstream.request.js';

/** Provide this class (e.g. `{ provide: TokenCounterOptions, useValue: {...} }`) to tune. */
export class TokenCounterOptions {
  /** Counting threads; 0 counts everything on the calling thread, in slices. Default: cores. */
  poolSize?: number;
  /** Inputs up to this many characters are counted inline. Default: measured by warmUp(). */
  inlineMaxChars?: number;
  /** The longest an inline count may hold the event loop before the rest goes to a worker (10 ms). */
  inlineBudgetMs?: number;
}

/** Before warmUp() measures: a few milliseconds of prose on a modest core. */
const DEFAULT_INLINE_MAX_CHARS = 32_000;
/**
 * The inline cost warmUp() aims for. A worker round trip adds ~0.5–2 ms and saves no CPU, so
 * counts are cheapest inline up to a few milliseconds; 5 ms keeps an inline count well inside
 * the 20 ms an event loop may be held, and the deadline catches text slower than the sample.
 */
const INLINE_TARGET_MS = 5;
const DEFAULT_INLINE_BUDGET_MS = 10;
const INLINE_MAX_CHARS_RANGE = [16_000, 256_000] as const;
/** Inputs up to this many times the inline limit are tried inline first (see countTexts). */
const OPTIMISTIC_FACTOR = 4;

export interface TokenCounterStats {
  /** Counts done entirely on the calling thread. */
  inline: number;
  /** Counts (or their remainders) sent to the worker pool. */
  offloaded: number;
  /** Counts that fell back to sliced counting on the calling thread (pool unavailable). */
  sliced: number;
  /** The inline limit in force, in characters. */
  inlineMaxChars: number;
}

/**
 * Counts prompt and completion tokens exactly as js-tiktoken's ordinary encoding would, fast, and
 * without holding the event loop: small inputs inline (bounded by a deadline), large ones on a
 * pool of worker threads.
 */
@Injectable()
export class TokenCounter implements OnModuleDestroy {
  private readonly logger = new Logger(TokenCounter.name);
  private readonly poolSize: number;
  private readonly inlineBudgetMs: number;
  private inlineMaxChars: number;
  private readonly inlineMaxCharsFixed: boolean;
  private pool: CountPool | null | undefined;
  private destroyed = false;
  private readonly counts = { inline: 0, offloaded: 0, sliced: 0 };

  constructor(@Optional() options?: TokenCounterOptions) {
    this.poolSize = Math.max(0, Math.floor(options?.poolSize ?? availableParallelism()));
    this.inlineBudgetMs = options?.inlineBudgetMs ?? DEFAULT_INLINE_BUDGET_MS;
    this.inlineMaxCharsFixed = options?.inlineMaxChars !== undefined;
    this.inlineMaxChars = options?.inlineMaxChars ?? DEFAULT_INLINE_MAX_CHARS;
  }

  /** A prompt string, or a completion's text. */
  async countText(text: string, model: ModelTokenization): Promise<number> {
    const encoding = encodingForModel(model);
    const tokens = typeof text === 'string' ? await this.countTexts([text], encoding) : 0;
    return applyTokenMultiplier(tokens, model.tokenMultiplier, model.name);
  }

  /** Chat messages (and the tools beside them) by OpenAI's counting rules; see chat.rules.ts. */
  async countChat(
    messages: ChatMessage[],
    model: ModelTokenization,
    tools?: ToolDefinition[],
  ): Promise<number> {
    const encoding = encodingForModel(model);
    const plan = planChat(messages, encoding, tools);
    const tokens = plan.fixed + (await this.countTexts(plan.texts, encoding));
    return applyTokenMultiplier(tokens, model.tokenMultiplier, model.name);
  }

  /**
   * An upstream request body as read by readUpstreamRequest(): its messages and tools by the chat
   * rules, plus the structured-output schema the model reads beside them.
   */
  async countRequest(request: UpstreamRequest, model: ModelTokenization): Promise<number> {
    const encoding = encodingForModel(model);
    const plan = planChat(request.messages, encoding, request.tools);
    plan.texts.push(...request.extraTexts);
    const tokens = plan.fixed + (await this.countTexts(plan.texts, encoding));
    return applyTokenMultiplier(tokens, model.tokenMultiplier, model.name);
  }

  /**
   * Loads the encodings here and in every worker thread, then measures how much text this
   * machine counts inline in INLINE_TARGET_MS and sets the inline limit from it. Names that
   * are no encoding are skipped with a warning.
   */
  async warmUp(encodings: string[]): Promise<void> {
    const names = [...new Set(encodings.map((name) => name.trim().toLowerCase()))];
    // One bad catalogue row must not stop the service: it is skipped here, and counting for
    // its model fails with `unsupported_encoding` (naming the model) until the row is fixed.
    for (const name of names.filter((name) => !isEncodingName(name))) {
      this.logger.warn(`Not warming up "${name}": not an encoding this service can load.`);
    }
    const valid = names.filter(isEncodingName);
    const counters = await Promise.all(valid.map((name) => loadPieceCounter(name)));
    const pool = this.poolOrNull();
    if (pool !== null) {
      await pool.load(valid);
    }
    if (!this.inlineMaxCharsFixed && counters.length > 0) {
      this.inlineMaxChars = measureInlineMaxChars(counters[0]!);
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    await this.pool?.close();
    this.pool = null;
  }

  get stats(): TokenCounterStats {
    return { ...this.counts, inlineMaxChars: this.inlineMaxChars };
  }

  private async countTexts(texts: string[], encoding: EncodingName): Promise<number> {
    const counter = await loadPieceCounter(encoding);
    let chars = 0;
    for (const text of texts) {
      chars += text.length;
    }
    if (chars > this.inlineMaxChars * OPTIMISTIC_FACTOR) {
      return this.countElsewhere(texts, encoding, counter);
    }
    // Between the limit and a few times it, text that counts faster than the sample (common
    // words: up to 3–4× faster) still finishes inline within half the budget, which is cheaper
    // than a worker's round trip; slower text hands its rest over when that time is up.
    const optimistic = chars > this.inlineMaxChars;
    const budgetMs = optimistic ? this.inlineBudgetMs / 2 : this.inlineBudgetMs;
    const { tokens, rest } = counter.countUntil(texts, performance.now() + budgetMs);
    if (rest.length === 0) {
      this.counts.inline++;
      return tokens;
    }
    // Slow text (long unique pieces, or this thread was starved of CPU): the rest must not
    // hold the event loop. A busy pool would make a small rest wait behind a large count, so
    // then the rest is counted here in slices instead.
    if (!optimistic && this.poolOrNull()?.hasIdleWorker === false) {
      this.counts.sliced++;
      return tokens + (await this.countInSlices(rest, counter));
    }
    return tokens + (await this.countElsewhere(rest, encoding, counter));
  }

  private async countElsewhere(
    texts: string[],
    encoding: EncodingName,
    counter: PieceCounter,
  ): Promise<number> {
    const pool = this.poolOrNull();
    if (pool !== null) {
      try {
        this.counts.offloaded++;
        return await pool.count(encoding, texts);
      } catch (error) {
        // A dead worker, or the pool stopped during shutdown while requests are still being
        // finished: the count is redone here, in slices, rather than failing the request.
        if (!this.destroyed) {
          this.logger.warn(`Worker count failed, counting on the main thread: ${String(error)}`);
        }
      }
    }
    this.counts.sliced++;
    return this.countInSlices(texts, counter);
  }

  /** The pool's stand-in: counts in slices of the inline budget, yielding in between. */
  private async countInSlices(texts: string[], counter: PieceCounter): Promise<number> {
    let total = 0;
    let rest = texts;
    while (rest.length > 0) {
      const progress = counter.countUntil(rest, performance.now() + this.inlineBudgetMs);
      total += progress.tokens;
      rest = progress.rest;
      if (rest.length > 0) {
        await yieldToEventLoop();
      }
    }
    return total;
  }

  private poolOrNull(): CountPool | null {
    if (this.pool === undefined) {
      this.pool = null;
      if (this.poolSize > 0 && !this.destroyed) {
        try {
          this.pool = new CountPool(this.poolSize);
        } catch (error) {
          this.logger.warn(`No worker threads, large counts run in slices: ${String(error)}`);
        }
      }
    }
    return this.pool;
  }
}

/**
 * Times inline counting of samples on this machine and returns the characters that take
 * INLINE_TARGET_MS, within a sane range. The first run compiles and fills the cache; of the
 * timed runs the fastest counts, since a slower one measures other processes, not us.
 */
function measureInlineMaxChars(counter: PieceCounter): number {
  counter.countAll([calibrationText(0)]);
  let fastest = Number.POSITIVE_INFINITY;
  let chars = 0;
  for (let seed = 1; seed <= 5; seed++) {
    const sample = calibrationText(seed);
    const started = performance.now();
    counter.countAll([sample]);
    const ms = performance.now() - started;
    if (ms < fastest) {
      fastest = ms;
      chars = sample.length;
    }
  }
  const charsPerMs = chars / Math.max(fastest, 0.01);
  const [low, high] = INLINE_MAX_CHARS_RANGE;
  return Math.round(Math.min(high, Math.max(low, charsPerMs * INLINE_TARGET_MS)));
}
