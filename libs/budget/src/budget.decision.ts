import { nextUtcMidnight, nextUtcMonthStart } from '#kernel';
import type { Dimension, Pricing } from './budget.types.js';
import { type BucketView, costMicros, largestAffordableCompletion, waitMs } from './bucket.math.js';

/**
 * The reserve decision as a pure function of what the store read. The in-process store calls
 * it; scripts/reserve.lua is the same algorithm step for step, so both stores agree.
 */
export interface DecisionInput {
  now: number;
  promptTokens: number;
  completionTokens: number;
  minCompletionTokens?: number;
  pricing: Pricing;
  requests?: BucketView;
  tokens?: BucketView;
  modelRequests?: BucketView;
  modelTokens?: BucketView;
  /** earliestExpiryMs: the first unexpired lease to end, when there is one. */
  concurrent?: { limit: number; active: number; earliestExpiryMs?: number };
  dailyCost?: { limitMicros: number; usedMicros: number };
  monthlyCost?: { limitMicros: number; usedMicros: number };
}

export type Decision =
  | { allowed: true; completionTokens: number; costMicros: number }
  | {
      allowed: false;
      reason: 'limited' | 'exceeds_capacity';
      dimension: Dimension;
      retryAfterMs?: number;
    };

/** The order in which ties are broken and capacity is checked (SPEC §3's table). */
export const DIMENSIONS: readonly Dimension[] = [
  'requests',
  'tokens',
  'concurrent',
  'daily_cost',
  'monthly_cost',
  'model_requests',
  'model_tokens',
];

export function decideReserve(input: DecisionInput): Decision {
  const { now, promptTokens: p, completionTokens: c, pricing } = input;
  // Degrading asks only for prompt + min; without it the whole estimate is the least we accept.
  const lo = input.minCompletionTokens === undefined ? c : Math.min(input.minCompletionTokens, c);
  const leastTokens = p + lo;
  const leastCost = costMicros(p, lo, pricing);

  // Waiting never helps: report the first such dimension, with no retry time.
  const never = (dimension: Dimension): Decision => ({
    allowed: false,
    reason: 'exceeds_capacity',
    dimension,
  });
  if (input.requests && input.requests.cap < 1) {
    return never('requests');
  }
  if (input.tokens && leastTokens > input.tokens.cap) {
    return never('tokens');
  }
  if (input.concurrent && input.concurrent.limit < 1) {
    return never('concurrent');
  }
  if (input.dailyCost && leastCost > input.dailyCost.limitMicros) {
    return never('daily_cost');
  }
  if (input.monthlyCost && leastCost > input.monthlyCost.limitMicros) {
    return never('monthly_cost');
  }
  if (input.modelRequests && input.modelRequests.cap < 1) {
    return never('model_requests');
  }
  if (input.modelTokens && leastTokens > input.modelTokens.cap) {
    return never('model_tokens');
  }

  // How long each dimension needs before the least acceptable request fits (0: fits now).
  const waits: [Dimension, number][] = [];
  if (input.requests) {
    waits.push(['requests', waitMs(input.requests, 1)]);
  }
  if (input.tokens) {
    waits.push(['tokens', waitMs(input.tokens, leastTokens)]);
  }
  if (input.concurrent) {
    // A lease usually ends at a commit, seconds away, not at its expiry: retry in 1 s (SPEC §3).
    const { limit, active } = input.concurrent;
    const wait = active < limit ? 0 : 1000;
    waits.push(['concurrent', wait]);
  }
  if (input.dailyCost) {
    const { limitMicros, usedMicros } = input.dailyCost;
    waits.push([
      'daily_cost',
      usedMicros + leastCost <= limitMicros ? 0 : nextUtcMidnight(now) - now,
    ]);
  }
  if (input.monthlyCost) {
    const { limitMicros, usedMicros } = input.monthlyCost;
    waits.push([
      'monthly_cost',
      usedMicros + leastCost <= limitMicros ? 0 : nextUtcMonthStart(now) - now,
    ]);
  }
  if (input.modelRequests) {
    waits.push(['model_requests', waitMs(input.modelRequests, 1)]);
  }
  if (input.modelTokens) {
    waits.push(['model_tokens', waitMs(input.modelTokens, leastTokens)]);
  }
  let worst: [Dimension, number] | undefined;
  for (const entry of waits) {
    if (entry[1] < 0) {
      // A bucket that never refills (perMinute 0) never lets this request through.
      return never(entry[0]);
    }
    if (entry[1] > 0 && (!worst || entry[1] > worst[1])) {
      worst = entry;
    }
  }
  if (worst) {
    return { allowed: false, reason: 'limited', dimension: worst[0], retryAfterMs: worst[1] };
  }

  // Everything fits prompt + lo: grant the largest completion every dimension allows.
  let granted = c;
  for (const bucket of [input.tokens, input.modelTokens]) {
    if (bucket) {
      granted = Math.min(granted, Math.floor(bucket.level) - p);
    }
  }
  // The money left is the least of what the day and the month leave.
  let avail = Infinity;
  for (const money of [input.dailyCost, input.monthlyCost]) {
    if (money) {
      avail = Math.min(avail, money.limitMicros - money.usedMicros);
    }
  }
  if (avail !== Infinity && costMicros(p, granted, pricing) > avail) {
    granted = largestAffordableCompletion(p, lo, granted, pricing, avail);
  }
  return { allowed: true, completionTokens: granted, costMicros: costMicros(p, granted, pricing) };
}
