import {
  type DomainError,
  InvalidJsonError,
  InvalidRequestError,
  LedgerUnavailableError,
  PayloadTooLargeError,
  ReservationConflictError,
  ReservationNotFoundError,
  StoreUnavailableError,
  UnauthorizedError,
  UnknownModelError,
  UnsupportedMediaTypeError,
} from '#kernel';

/**
 * Example bodies of the OpenAPI document, in the shapes of SPEC §4 (money as six-decimal
 * strings). The figures are consistent with the seeded free tier and gpt-4o's list price.
 */

const RESERVATION_ID = 'dXNlcl8xMjM.q3Jd8T0xkW2mZpL5vN7cYA';

const LIMITS = {
  requests: { limit: 10, remaining: 9, reset_seconds: 6 },
  tokens: { limit: 10000, remaining: 8254, reset_seconds: 11 },
  concurrent: { limit: 2, remaining: 1 },
  daily_cost: {
    limit_usd: '1.000000',
    remaining_usd: '0.991795',
    reset_at: '2026-11-23T00:00:00Z',
  },
};

export const CHECK_ALLOWED = {
  allowed: true,
  reservation_id: RESERVATION_ID,
  subject: 'user_123',
  tier: 'free',
  model: 'gpt-4o',
  requested_model: 'gpt-4o',
  estimate: { prompt_tokens: 1234, completion_tokens: 512, cost_usd: '0.008205' },
  granted_max_tokens: 512,
  expires_at: '2026-11-22T10:00:00Z',
  limits: LIMITS,
};

export const CHECK_REFUSED = {
  rate_limit_exceeded: {
    error: 'rate_limit_exceeded',
    message: 'Token limit exceeded: 9,800 of 10,000 tokens used this minute; retry in 12 s.',
    dimension: 'tokens',
    retry_after_seconds: 12,
    limit: 10000,
    remaining: 200,
    reset_at: '2026-11-22T09:31:12Z',
    limits: { ...LIMITS, tokens: { limit: 10000, remaining: 200, reset_seconds: 59 } },
    scope_subject: 'user_123',
  },
  concurrency_limit_exceeded: {
    error: 'concurrency_limit_exceeded',
    message: 'Concurrency limit exceeded: 2 of 2 requests in flight; retry in 30 s.',
    dimension: 'concurrent',
    retry_after_seconds: 30,
    limit: 2,
    remaining: 0,
    reset_at: '2026-11-22T09:31:30Z',
    limits: { ...LIMITS, concurrent: { limit: 2, remaining: 0 } },
    scope_subject: 'user_123',
  },
  daily_budget_exceeded: {
    error: 'daily_budget_exceeded',
    message:
      'Daily budget exceeded: $0.995000 of $1.000000 spent or reserved today; retry in 52140 s.',
    dimension: 'daily_cost',
    retry_after_seconds: 52140,
    limit: '1.000000',
    remaining: '0.005000',
    reset_at: '2026-11-23T00:00:00Z',
    limits: {
      ...LIMITS,
      daily_cost: {
        limit_usd: '1.000000',
        remaining_usd: '0.005000',
        reset_at: '2026-11-23T00:00:00Z',
      },
    },
    scope_subject: 'user_123',
  },
  monthly_budget_exceeded: {
    error: 'monthly_budget_exceeded',
    message:
      'Monthly budget exceeded for team_red: $499.990000 of $500.000000 spent or reserved this month; retry in 747340 s.',
    dimension: 'monthly_cost',
    retry_after_seconds: 747340,
    limit: '500.000000',
    remaining: '0.010000',
    reset_at: '2026-12-01T00:00:00Z',
    limits: LIMITS,
    scope_subject: 'team_red',
    scope: [
      {
        subject: 'team_red',
        tier: 'team',
        limits: {
          monthly_cost: {
            limit_usd: '500.000000',
            remaining_usd: '0.010000',
            reset_at: '2026-12-01T00:00:00Z',
          },
        },
      },
    ],
  },
  exceeds_capacity: {
    error: 'exceeds_capacity',
    message:
      'Token limit can never admit this request: its estimate is larger than the limit itself. Lower max_tokens or the prompt.',
    dimension: 'tokens',
    limit: 10000,
    remaining: 10000,
    limits: { ...LIMITS, tokens: { limit: 10000, remaining: 10000, reset_seconds: 0 } },
    scope_subject: 'user_123',
  },
};

export const ESTIMATE = {
  subject: 'user_123',
  tier: 'free',
  model: 'gpt-4o-mini',
  requested_model: 'openai/gpt-4o-mini-2024-07-18',
  estimate: { prompt_tokens: 5, completion_tokens: 4096, cost_usd: '0.002459' },
};

const SETTLED_LIMITS = {
  requests: { limit: 10, remaining: 9, reset_seconds: 6 },
  tokens: { limit: 10000, remaining: 8500, reset_seconds: 9 },
  concurrent: { limit: 2, remaining: 2 },
  daily_cost: {
    limit_usd: '1.000000',
    remaining_usd: '0.994000',
    reset_at: '2026-11-23T00:00:00Z',
  },
};

export const COMMITTED = {
  reservation_id: RESERVATION_ID,
  status: 'committed',
  usage: { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 0 },
  cost_usd: '0.006000',
  limits: SETTLED_LIMITS,
};

export const REFUNDED = {
  partial: {
    reservation_id: RESERVATION_ID,
    status: 'refunded',
    usage: { prompt_tokens: 1200, completion_tokens: 40, cached_tokens: 0 },
    cost_usd: '0.003400',
    limits: SETTLED_LIMITS,
  },
  everything: {
    reservation_id: RESERVATION_ID,
    status: 'refunded',
    usage: { prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0 },
    cost_usd: '0.000000',
    limits: SETTLED_LIMITS,
  },
};

export const SUBJECT_USAGE = {
  subject: 'user_123',
  tier: 'free',
  limits: {
    ...LIMITS,
    tokens: { limit: 10000, remaining: 8488, reset_seconds: 10 },
    daily_cost: {
      limit_usd: '1.000000',
      remaining_usd: '0.983380',
      reset_at: '2026-11-23T00:00:00Z',
    },
  },
  today: {
    date: '2026-11-22',
    cost_usd: '0.009000',
    requests: 2,
    prompt_tokens: 2000,
    completion_tokens: 400,
  },
  month: {
    month: '2026-11',
    cost_usd: '0.129000',
    requests: 31,
    prompt_tokens: 28000,
    completion_tokens: 6100,
  },
  in_flight: [
    {
      reservation_id: RESERVATION_ID,
      model: 'gpt-4o',
      expires_at: '2026-11-22T10:00:00Z',
      estimate: { prompt_tokens: 1000, completion_tokens: 512, cost_usd: '0.007620' },
    },
  ],
};

/** Errors by code (or code and situation); their bodies are what the error classes answer. */
export const ERRORS = {
  invalid_request: new InvalidRequestError('Invalid request: max_tokens must not be less than 1.', {
    problems: ['max_tokens must not be less than 1'],
  }),
  invalid_json: new InvalidJsonError('not_json'),
  unknown_model: new UnknownModelError('gpt-9'),
  unauthorized_missing: new UnauthorizedError('missing'),
  unauthorized: new UnauthorizedError('unknown'),
  reservation_not_found: new ReservationNotFoundError(RESERVATION_ID),
  reservation_conflict: new ReservationConflictError(RESERVATION_ID, 'refunded'),
  payload_too_large: new PayloadTooLargeError(),
  unsupported_media_type: new UnsupportedMediaTypeError(),
  ledger_unavailable: new LedgerUnavailableError('no answer from Postgres within 10000 ms'),
  store_unavailable_settling: new StoreUnavailableError('settling'),
  store_unavailable: new StoreUnavailableError('deciding'),
} satisfies Record<string, DomainError>;

export const HEALTH = { status: 'ok' };

export const READY = {
  status: 'ok',
  checks: { store: 'up', database: 'up' },
  modes: {
    store: 'redis',
    decisions: 'redis',
    database: 'postgres',
    redis_failure_mode: 'local',
    expired_reservation_policy: 'charge',
  },
};

export const DEGRADED = {
  ...READY,
  status: 'degraded',
  checks: { store: 'down', database: 'up' },
  modes: { ...READY.modes, decisions: 'local_fallback' },
};

export const NOT_READY = {
  ...READY,
  status: 'not_ready',
  checks: { store: 'down', database: 'up' },
  modes: { ...READY.modes, decisions: 'closed_refusing', redis_failure_mode: 'closed' },
};
