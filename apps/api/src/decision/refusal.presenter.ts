import { microsToUsd } from '#kernel';
import type { BucketState, Dimension, LimitsState, ScopeState } from '#budget';
import { isoSeconds, limitsView } from './limits.presenter.js';

export interface Refusal {
  reason: 'limited' | 'exceeds_capacity';
  dimension: Dimension;
  retryAfterMs?: number;
  state: LimitsState;
  /** The ancestor that refused; absent when the subject's own level did. */
  scopeSubject?: string;
  scope?: ScopeState[];
}

/** SPEC §4 `scope`: each ancestor level judged, with its own limits. */
export function scopeView(
  scope: readonly ScopeState[],
): { subject: string; tier: string; limits: ReturnType<typeof limitsView> }[] {
  return scope.map((level) => ({
    subject: level.subject,
    tier: level.tier,
    limits: limitsView(level.state),
  }));
}

const ERROR_OF: Record<Dimension, string> = {
  requests: 'rate_limit_exceeded',
  tokens: 'rate_limit_exceeded',
  model_requests: 'rate_limit_exceeded',
  model_tokens: 'rate_limit_exceeded',
  concurrent: 'concurrency_limit_exceeded',
  daily_cost: 'daily_budget_exceeded',
  monthly_cost: 'monthly_budget_exceeded',
};

const number = (n: number): string => Math.floor(n).toLocaleString('en-US');

type BucketDimension = 'requests' | 'tokens' | 'model_requests' | 'model_tokens';

/** Each bucket dimension's state, and how a sentence names it. */
const BUCKETS: Record<
  BucketDimension,
  (state: LimitsState) => { bucket?: BucketState; label: string; unit: string }
> = {
  requests: (state) => ({ bucket: state.requests, label: 'Request limit', unit: 'requests' }),
  tokens: (state) => ({ bucket: state.tokens, label: 'Token limit', unit: 'tokens' }),
  model_requests: (state) => ({
    bucket: state.modelRequests,
    label: 'Model request limit',
    unit: 'requests',
  }),
  model_tokens: (state) => ({
    bucket: state.modelTokens,
    label: 'Model token limit',
    unit: 'tokens',
  }),
};

/** The limit and remaining of the refusing dimension, and a sentence about it. */
function describe(
  dimension: Dimension,
  state: LimitsState,
): {
  limit: number | string;
  remaining: number | string;
  sentence: string;
} {
  switch (dimension) {
    case 'requests':
    case 'tokens':
    case 'model_requests':
    case 'model_tokens': {
      const { bucket, label, unit } = BUCKETS[dimension](state);
      const limit = bucket?.limit ?? 0;
      const remaining = Math.max(0, Math.floor(bucket?.remaining ?? 0));
      return {
        limit,
        remaining,
        sentence: `${label} exceeded: ${number(limit - remaining)} of ${number(limit)} ${unit} used this minute`,
      };
    }
    case 'concurrent': {
      const limit = state.concurrent?.limit ?? 0;
      const remaining = Math.max(0, state.concurrent?.remaining ?? 0);
      return {
        limit,
        remaining,
        sentence: `Concurrency limit exceeded: ${number(limit - remaining)} of ${number(limit)} requests in flight`,
      };
    }
    case 'daily_cost': {
      const limit = state.dailyCost?.limitMicros ?? 0;
      const remaining = Math.max(0, state.dailyCost?.remainingMicros ?? 0);
      return {
        limit: microsToUsd(limit),
        remaining: microsToUsd(remaining),
        sentence: `Daily budget exceeded: $${microsToUsd(limit - remaining)} of $${microsToUsd(limit)} spent or reserved today`,
      };
    }
    case 'monthly_cost': {
      const limit = state.monthlyCost?.limitMicros ?? 0;
      const remaining = Math.max(0, state.monthlyCost?.remainingMicros ?? 0);
      return {
        limit: microsToUsd(limit),
        remaining: microsToUsd(remaining),
        sentence: `Monthly budget exceeded: $${microsToUsd(limit - remaining)} of $${microsToUsd(limit)} spent or reserved this month`,
      };
    }
  }
}

/** The 429 body of SPEC §4 and its Retry-After (absent for exceeds_capacity). */
export function refusalBody(
  refusal: Refusal,
  nowMs: number,
): { body: Record<string, unknown>; retryAfterSeconds?: number } {
  // An ancestor's refusal is described by that ancestor's figures.
  const refusing =
    refusal.scopeSubject === undefined
      ? refusal.state
      : (refusal.scope?.find((level) => level.subject === refusal.scopeSubject)?.state ??
        refusal.state);
  const described = describe(refusal.dimension, refusing);
  const { limit, remaining } = described;
  const sentence =
    refusal.scopeSubject === undefined
      ? described.sentence
      : described.sentence.replace(' exceeded:', ` exceeded for ${refusal.scopeSubject}:`);
  const limits = limitsView(refusal.state);
  if (refusal.reason === 'exceeds_capacity') {
    return {
      body: {
        error: 'exceeds_capacity',
        message: `${sentence.replace(/ exceeded:.*/, '')} can never admit this request: its estimate is larger than the limit itself. Lower max_tokens or the prompt.`,
        dimension: refusal.dimension,
        limit,
        remaining,
        limits,
      },
    };
  }
  const retryAfterSeconds = Math.max(1, Math.ceil((refusal.retryAfterMs ?? 0) / 1000));
  return {
    retryAfterSeconds,
    body: {
      error: ERROR_OF[refusal.dimension],
      message: `${sentence}; retry in ${retryAfterSeconds} s.`,
      dimension: refusal.dimension,
      retry_after_seconds: retryAfterSeconds,
      limit,
      remaining,
      reset_at: isoSeconds(nowMs + retryAfterSeconds * 1000),
      limits,
    },
  };
}
