/**
 * The contract of the decision engine: what a store is asked and what it answers.
 * Money is integer micro-dollars; prices are integer pico-dollars per token
 * (USD per million tokens × 1e6), so cost_micros = ceil((p·in + c·out) / 1e6) stays exact.
 */

/** A token bucket: capacity (burst) and refill per minute. */
export interface BucketLimit {
  capacity: number;
  perMinute: number;
  /**
   * The recent edits of this limit, oldest first (the last one is the limit above), when it
   * changed lately: a bucket written before an edit is replayed through them, so a shrink clamps
   * it even when no check ran while the limit was small (SPEC §3).
   */
  changes?: readonly LimitChange[];
}

/** An edit of a bucket's limit: from `atMs` on, this capacity and refill rate were in force. */
export interface LimitChange {
  atMs: number;
  capacity: number;
  perMinute: number;
}

/** Every dimension of SPEC §3; null means unlimited. */
export interface Limits {
  requests: BucketLimit | null;
  tokens: BucketLimit | null;
  concurrent: number | null;
  dailyCostMicros: number | null;
  /** The UTC calendar month's cost limit; absent or null means unlimited. */
  monthlyCostMicros?: number | null;
  modelRequests: BucketLimit | null;
  modelTokens: BucketLimit | null;
}

export interface Pricing {
  inputPicosPerToken: number;
  outputPicosPerToken: number;
  /** Cached input tokens (models.cached_input_usd_per_mtok); absent, the input price. */
  cachedInputPicosPerToken?: number;
}

export type Dimension =
  | 'requests'
  | 'tokens'
  | 'concurrent'
  | 'daily_cost'
  | 'monthly_cost'
  | 'model_requests'
  | 'model_tokens';

/** One ancestor of the subject (SPEC §2 scope): its tier's limits apply to its aggregate. */
export interface ScopeLevel {
  subject: string;
  tier: string;
  limits: Limits;
}

/** An ancestor's figures after a decision, shown in answers' `scope`. */
export interface ScopeState {
  subject: string;
  tier: string;
  state: LimitsState;
}

export interface ReserveRequest {
  subject: string;
  tier: string;
  model: string;
  limits: Limits;
  pricing: Pricing;
  promptTokens: number;
  /** The completion estimate asked for (max_tokens). */
  completionTokens: number;
  /** Graceful degradation floor (min_max_tokens); absent means all or nothing. */
  minCompletionTokens?: number;
  ttlSeconds: number;
  idempotencyKey?: string;
  /**
   * What makes two checks with one idempotency key "the same check" (a digest of the body);
   * the key answers only checks with the same fingerprint, others are refused.
   */
  idempotencyFingerprint?: string;
  /**
   * The subject's ancestors to judge too, nearest first (those whose tier limits something).
   * Every level must allow; all or nothing across levels.
   */
  scope?: readonly ScopeLevel[];
  /** The api_clients.name whose key made the check: kept with the reservation for the ledger. */
  caller?: string;
}

/**
 * The state of one bucket or limit after a decision, as shown to callers. Every `remaining` here
 * is already whole and never negative (bucket.math's limitsState makes it so, once).
 */
export interface BucketState {
  limit: number;
  remaining: number;
  resetMs: number;
}

export interface LimitsState {
  requests?: BucketState;
  tokens?: BucketState;
  concurrent?: { limit: number; remaining: number };
  dailyCost?: { limitMicros: number; remainingMicros: number; resetAtMs: number };
  monthlyCost?: { limitMicros: number; remainingMicros: number; resetAtMs: number };
  modelRequests?: BucketState;
  modelTokens?: BucketState;
}

export interface Reservation {
  reservationId: string;
  subject: string;
  tier: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  pricing: Pricing;
  reservedAtMs: number;
  expiresAtMs: number;
}

export type ReserveResult =
  | {
      allowed: true;
      reservation: Reservation;
      state: LimitsState;
      replayed: boolean;
      /** Each ancestor level judged, nearest first. */
      scope?: ScopeState[];
    }
  | {
      allowed: false;
      /** exceeds_capacity when waiting can never help. */
      reason: 'limited' | 'exceeds_capacity';
      dimension: Dimension;
      /** Milliseconds until this request would fit (absent for exceeds_capacity). */
      retryAfterMs?: number;
      state: LimitsState;
      /** The level that refused when it is an ancestor (absent: the subject itself). */
      scopeSubject?: string;
      scope?: ScopeState[];
    };

export interface Usage {
  /** Every prompt token, the cached ones included (as OpenAI counts them). */
  promptTokens: number;
  completionTokens: number;
  /** Of promptTokens, those served from the provider's prompt cache; absent, none. */
  cachedTokens?: number;
}

export type SettlementStatus = 'committed' | 'refunded' | 'expired';

/** One settled reservation: exactly what becomes one usage_ledger row. */
export interface Settlement {
  reservationId: string;
  subject: string;
  tier: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  /** Of promptTokens, the cached ones (priced at the cached-input price); absent, none. */
  cachedTokens?: number;
  costMicros: number;
  status: SettlementStatus;
  reservedAtMs: number;
  settledAtMs: number;
  /**
   * The subject's ancestors (SPEC §2 scope) whose daily_usage rows this settlement adds to as
   * well; the ledger writer fills it from the catalogue when absent.
   */
  scope?: readonly string[];
  /** Tokens the reservation held (prompt + completion estimate), for metrics; absent when unknown. */
  reservedTokens?: number;
  /** The api_clients.name whose key made the check (usage_ledger.caller); absent when unknown. */
  caller?: string;
}

export type SettleResult =
  | { ok: true; settlement: Settlement; state: LimitsState; replayed: boolean }
  | { ok: false; error: 'not_found' }
  | { ok: false; error: 'conflict'; status: SettlementStatus };

/**
 * Where a subject's committed cost of a UTC day (and month) really lives (the Postgres ledger). The store's
 * day counter is only a cache of it: seeded from here whenever it is missing (flush, restart,
 * first check of the day), so losing Redis never resets anyone's daily budget.
 */
export abstract class DailyCostSource {
  /** `day` is `YYYY-MM-DD` (UTC); the day of a settlement is the day of its settledAtMs. */
  abstract committedCostMicros(subject: string, day: string): Promise<number>;
  /** The same over a UTC calendar month, `month` being `YYYY-MM`. */
  abstract committedMonthCostMicros(subject: string, month: string): Promise<number>;
}

/** What happens to a reservation that reached its expiry unsettled (EXPIRED_RESERVATION_POLICY). */
export type ExpiryPolicy = 'charge' | 'release';
