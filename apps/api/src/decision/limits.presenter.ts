import { microsToUsd } from '#kernel';
import type { BucketState, LimitsState } from '#budget';

export interface BucketView {
  limit: number;
  remaining: number;
  reset_seconds: number;
}

export interface MoneyView {
  limit_usd: string;
  remaining_usd: string;
  reset_at: string;
}

export interface LimitsView {
  requests?: BucketView;
  tokens?: BucketView;
  concurrent?: { limit: number; remaining: number };
  daily_cost?: MoneyView;
  monthly_cost?: MoneyView;
  model_requests?: BucketView;
  model_tokens?: BucketView;
}

function bucketView(bucket: BucketState): BucketView {
  return {
    limit: bucket.limit,
    remaining: bucket.remaining,
    reset_seconds: Math.ceil(bucket.resetMs / 1000),
  };
}

function moneyView(money: {
  limitMicros: number;
  remainingMicros: number;
  resetAtMs: number;
}): MoneyView {
  return {
    limit_usd: microsToUsd(money.limitMicros),
    remaining_usd: microsToUsd(money.remainingMicros),
    reset_at: isoSeconds(money.resetAtMs),
  };
}

/** The `limits` object of SPEC §4: only the dimensions that are limited. */
export function limitsView(state: LimitsState): LimitsView {
  const view: LimitsView = {};
  if (state.requests) {
    view.requests = bucketView(state.requests);
  }
  if (state.tokens) {
    view.tokens = bucketView(state.tokens);
  }
  if (state.concurrent) {
    view.concurrent = {
      limit: state.concurrent.limit,
      remaining: state.concurrent.remaining,
    };
  }
  if (state.dailyCost) {
    view.daily_cost = moneyView(state.dailyCost);
  }
  if (state.monthlyCost) {
    view.monthly_cost = moneyView(state.monthlyCost);
  }
  if (state.modelRequests) {
    view.model_requests = bucketView(state.modelRequests);
  }
  if (state.modelTokens) {
    view.model_tokens = bucketView(state.modelTokens);
  }
  return view;
}

/** OpenAI's reset format: `250ms`, `1s`, `12s`, `6m0s`, `1h2m3s`. */
export function openAiDuration(ms: number): string {
  if (ms <= 0) {
    return '0s';
  }
  if (ms < 1000) {
    return `${Math.ceil(ms)}ms`;
  }
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) {
    return `${hours}h${minutes}m${seconds}s`;
  }
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** The rate-limit headers of SPEC §4, for the dimensions that are limited. */
export function rateLimitHeaders(state: LimitsState, nowMs: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, bucket] of [
    ['requests', state.requests],
    ['tokens', state.tokens],
  ] as const) {
    if (bucket) {
      headers[`x-ratelimit-limit-${name}`] = String(bucket.limit);
      headers[`x-ratelimit-remaining-${name}`] = String(bucket.remaining);
      headers[`x-ratelimit-reset-${name}`] = openAiDuration(bucket.resetMs);
    }
  }
  if (state.requests) {
    headers['X-RateLimit-Limit'] = String(state.requests.limit);
    headers['X-RateLimit-Remaining'] = String(state.requests.remaining);
    headers['X-RateLimit-Reset'] = String(Math.ceil((nowMs + state.requests.resetMs) / 1000));
  }
  return headers;
}

/**
 * The last two instants formatted: a check answers its expiry and the day's reset, and the
 * checks of one second share both, so most calls format nothing.
 */
const formatted: [number, string][] = [
  [NaN, ''],
  [NaN, ''],
];
let older = 0;

/** ISO-8601 in UTC without milliseconds, as in SPEC's examples. */
export function isoSeconds(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  for (const [at, text] of formatted) {
    if (at === seconds) {
      return text;
    }
  }
  const text = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  formatted[older] = [seconds, text];
  older = 1 - older;
  return text;
}
