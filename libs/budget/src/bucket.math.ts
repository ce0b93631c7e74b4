import { nextUtcMidnight, nextUtcMonthStart } from '#kernel';
import type { BucketState, LimitChange, LimitsState, Pricing } from './budget.types.js';

/**
 * The arithmetic of the decision, shared by the in-process store, the Redis store's TypeScript
 * side and the unit tests. scripts/lib-buckets.lua repeats exactly these formulas (same operation
 * order, so the same doubles) inside Redis; the conformance suite proves the two agree.
 */

export const MINUTE_MS = 60_000;
const MICRO_PER_PICO = 1_000_000;

/** A token bucket as stored: its level at time `t`, under its own capacity and refill rate. */
export interface StoredBucket {
  level: number;
  t: number;
  cap: number;
  perMinute: number;
}

/** A bucket as seen at one instant (already refilled and clamped). */
export interface BucketView {
  level: number;
  cap: number;
  perMinute: number;
}

/**
 * ceil((uncached·in + cached·cachedIn + completion·out) / 1e6) in integer micro-dollars,
 * exactly: one ceiling over the whole sum. `cachedTokens` are part of `promptTokens` (as OpenAI
 * counts them) and cost the cached-input price, the input price where the model has none.
 * Prices are split at 1e6 so every product stays far below 2^53 (1e7 tokens × 1e9 pico would
 * not). scripts/lib-settle.lua's settle_cost repeats this with cached tokens, lib-buckets.lua's
 * cost_micros without.
 */
export function costMicros(
  promptTokens: number,
  completionTokens: number,
  pricing: Pricing,
  cachedTokens = 0,
): number {
  const uncached = promptTokens - cachedTokens;
  const cachedPrice = pricing.cachedInputPicosPerToken ?? pricing.inputPicosPerToken;
  const inHi = Math.floor(pricing.inputPicosPerToken / MICRO_PER_PICO);
  const inLo = pricing.inputPicosPerToken % MICRO_PER_PICO;
  const cachedHi = Math.floor(cachedPrice / MICRO_PER_PICO);
  const cachedLo = cachedPrice % MICRO_PER_PICO;
  const outHi = Math.floor(pricing.outputPicosPerToken / MICRO_PER_PICO);
  const outLo = pricing.outputPicosPerToken % MICRO_PER_PICO;
  const rest = uncached * inLo + cachedTokens * cachedLo + completionTokens * outLo;
  return (
    uncached * inHi +
    cachedTokens * cachedHi +
    completionTokens * outHi +
    ceilDiv(rest, MICRO_PER_PICO)
  );
}

/** ceil(n / d) for non-negative integers n < 2^53, immune to the rounding of n / d. */
function ceilDiv(n: number, d: number): number {
  let q = Math.floor(n / d);
  if (q * d > n) {
    q -= 1;
  }
  if ((q + 1) * d <= n) {
    q += 1;
  }
  return q * d < n ? q + 1 : q;
}

/** The stored bucket refilled to `now` under the capacity and rate it was stored with. */
export function refill(stored: StoredBucket, now: number): number {
  let level = stored.level;
  if (now > stored.t) {
    level = level + ((now - stored.t) * stored.perMinute) / MINUTE_MS;
  }
  return level > stored.cap ? stored.cap : level;
}

/**
 * The bucket under the limits in force now: missing means full (buckets start full); a shrunk
 * capacity clamps the level, a grown one keeps it (it then refills at the new rate).
 */
export function viewBucket(
  stored: StoredBucket | undefined,
  cap: number,
  perMinute: number,
  now: number,
  changes?: readonly LimitChange[],
): BucketView {
  if (!stored) {
    return { level: cap, cap, perMinute };
  }
  const level = refill(changes ? replayChanges(stored, changes, now) : stored, now);
  return { level: level > cap ? cap : level, cap, perMinute };
}

/**
 * The stored bucket carried through the limit edits made since it was written: refilled under
 * each limit while it was in force and clamped to each new capacity, so a shrink holds even if
 * no check ran while the limit was small. lib-buckets.lua's replay_changes repeats it.
 */
export function replayChanges(
  stored: StoredBucket,
  changes: readonly LimitChange[],
  now: number,
): StoredBucket {
  let bucket = stored;
  for (const change of changes) {
    if (change.atMs > bucket.t && change.atMs <= now) {
      const level = refill(bucket, change.atMs);
      bucket = {
        level: level > change.capacity ? change.capacity : level,
        t: change.atMs,
        cap: change.capacity,
        perMinute: change.perMinute,
      };
    }
  }
  return bucket;
}

/** Milliseconds until the bucket holds `need`; 0 if it does; -1 if it never refills. */
export function waitMs(view: BucketView, need: number): number {
  if (view.level >= need) {
    return 0;
  }
  if (view.perMinute <= 0) {
    return -1;
  }
  return Math.max(1, Math.ceil(((need - view.level) * MINUTE_MS) / view.perMinute));
}

export function bucketState(view: BucketView): BucketState {
  const resetMs = waitMs(view, view.cap);
  return {
    limit: view.cap,
    remaining: Math.max(0, Math.floor(view.level)),
    // A bucket that never refills reports no reset (0) rather than an endless one.
    resetMs: resetMs < 0 ? 0 : resetMs,
  };
}

/**
 * The largest completion in [lo, hi] whose cost fits `availMicros`, by bisection on the exact
 * cost: no division by prices and no multiplication of a (possibly huge) budget by 1e6.
 * The caller guarantees that `lo` fits.
 */
export function largestAffordableCompletion(
  promptTokens: number,
  lo: number,
  hi: number,
  pricing: Pricing,
  availMicros: number,
): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = Math.floor((a + b + 1) / 2);
    if (costMicros(promptTokens, mid, pricing) <= availMicros) {
      a = mid;
    } else {
      b = mid - 1;
    }
  }
  return a;
}

/** The raw figures every store gathers about a subject, turned into what callers see. */
export interface RawLimits {
  requests?: BucketView;
  tokens?: BucketView;
  modelRequests?: BucketView;
  modelTokens?: BucketView;
  concurrent?: { limit: number; active: number };
  dailyCost?: { limitMicros: number; usedMicros: number };
  monthlyCost?: { limitMicros: number; usedMicros: number };
}

export function limitsState(raw: RawLimits, now: number): LimitsState {
  const state: LimitsState = {};
  if (raw.requests) {
    state.requests = bucketState(raw.requests);
  }
  if (raw.tokens) {
    state.tokens = bucketState(raw.tokens);
  }
  if (raw.concurrent) {
    const { limit, active } = raw.concurrent;
    state.concurrent = { limit, remaining: Math.max(0, limit - active) };
  }
  if (raw.dailyCost) {
    const { limitMicros, usedMicros } = raw.dailyCost;
    state.dailyCost = {
      limitMicros,
      remainingMicros: Math.max(0, limitMicros - usedMicros),
      resetAtMs: nextUtcMidnight(now),
    };
  }
  if (raw.monthlyCost) {
    const { limitMicros, usedMicros } = raw.monthlyCost;
    state.monthlyCost = {
      limitMicros,
      remainingMicros: Math.max(0, limitMicros - usedMicros),
      resetAtMs: nextUtcMonthStart(now),
    };
  }
  if (raw.modelRequests) {
    state.modelRequests = bucketState(raw.modelRequests);
  }
  if (raw.modelTokens) {
    state.modelTokens = bucketState(raw.modelTokens);
  }
  return state;
}
