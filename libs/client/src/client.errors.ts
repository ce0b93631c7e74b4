/**
 * One class per error code the service answers (SPEC §4, `{error, message, ...details}`), so a
 * gateway can `catch (e) { if (e instanceof ReservationConflictError) … }`. A refused check is
 * a BudgetRefusedError (one subclass per refusal code) carrying `retryAfterSeconds`.
 */
export class TokenBudgetError extends Error {
  constructor(
    /** The service's stable code, or `network_error` / `timeout` for a call that got no answer. */
    readonly code: string,
    message: string,
    /** The HTTP status; 0 when no answer arrived. */
    readonly status: number,
    /** The whole error body as the service sent it. */
    readonly body: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

type Body = Record<string, unknown>;
type ErrorClass = new (message: string, status: number, body: Body) => TokenBudgetError;

function coded(code: string): ErrorClass {
  return class extends TokenBudgetError {
    constructor(message: string, status: number, body: Body) {
      super(code, message, status, body);
    }
  };
}

export class InvalidRequestError extends coded('invalid_request') {}
export class InvalidJsonError extends coded('invalid_json') {}
export class UnknownModelError extends coded('unknown_model') {}
export class UnauthorizedError extends coded('unauthorized') {}
export class ForbiddenError extends coded('forbidden') {}
export class ReservationNotFoundError extends coded('reservation_not_found') {}
export class ReservationConflictError extends coded('reservation_conflict') {}
export class IdempotencyKeyReusedError extends coded('idempotency_key_reused') {}
export class PayloadTooLargeError extends coded('payload_too_large') {}
export class UnsupportedMediaTypeError extends coded('unsupported_media_type') {}
export class StoreUnavailableError extends coded('store_unavailable') {}
export class LedgerUnavailableError extends coded('ledger_unavailable') {}
export class ServiceUnavailableError extends coded('service_unavailable') {}
export class UnknownTierError extends coded('unknown_tier') {}
export class UnsupportedEncodingError extends coded('unsupported_encoding') {}
export class InternalError extends coded('internal_error') {}
/** Admin API: no row of that name. */
export class NotFoundError extends coded('not_found') {}
/** Admin API: the change conflicts with another row. */
export class ConflictError extends coded('conflict') {}
/** Admin API: a tier still used by a subject cannot be deleted. */
export class TierInUseError extends coded('tier_in_use') {}
/** Admin API: a key of that name exists. */
export class ApiClientExistsError extends coded('api_client_exists') {}

/** No answer: the connection failed or the per-call timeout passed (after every retry). */
export class NetworkError extends TokenBudgetError {
  constructor(message: string, cause: unknown) {
    super('network_error', message, 0, {}, { cause });
  }
}

/** The overall deadline passed before an answer that could be returned. */
export class DeadlineExceededError extends TokenBudgetError {
  constructor(deadlineMs: number, cause?: unknown) {
    super(
      'deadline_exceeded',
      `No answer within the deadline of ${deadlineMs} ms.`,
      0,
      {},
      {
        cause,
      },
    );
  }
}

/** A 429 from /v1/check: nothing was reserved. */
export class BudgetRefusedError extends TokenBudgetError {
  /** The refusing dimension (`requests`, `tokens`, `concurrent`, `daily_cost`, …). */
  readonly dimension: string;
  /** Seconds until this request would fit; undefined for exceeds_capacity (never). */
  readonly retryAfterSeconds: number | undefined;
  /** The level of the subject's scope that refused, when the service names one. */
  readonly scopeSubject: string | undefined;

  constructor(code: string, message: string, status: number, body: Body) {
    super(code, message, status, body);
    this.dimension = String(body.dimension ?? '');
    this.retryAfterSeconds =
      typeof body.retry_after_seconds === 'number' ? body.retry_after_seconds : undefined;
    this.scopeSubject = typeof body.scope_subject === 'string' ? body.scope_subject : undefined;
  }
}

const refusal = (code: string) =>
  class extends BudgetRefusedError {
    constructor(message: string, status: number, body: Body) {
      super(code, message, status, body);
    }
  };

export class RateLimitExceededError extends refusal('rate_limit_exceeded') {}
export class ConcurrencyLimitExceededError extends refusal('concurrency_limit_exceeded') {}
export class DailyBudgetExceededError extends refusal('daily_budget_exceeded') {}
export class MonthlyBudgetExceededError extends refusal('monthly_budget_exceeded') {}
/** Waiting never helps: the estimate is larger than a limit itself. */
export class ExceedsCapacityError extends refusal('exceeds_capacity') {}

const BY_CODE: Record<string, ErrorClass> = {
  invalid_request: InvalidRequestError,
  invalid_json: InvalidJsonError,
  unknown_model: UnknownModelError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  reservation_not_found: ReservationNotFoundError,
  reservation_conflict: ReservationConflictError,
  idempotency_key_reused: IdempotencyKeyReusedError,
  payload_too_large: PayloadTooLargeError,
  unsupported_media_type: UnsupportedMediaTypeError,
  store_unavailable: StoreUnavailableError,
  ledger_unavailable: LedgerUnavailableError,
  service_unavailable: ServiceUnavailableError,
  unknown_tier: UnknownTierError,
  unsupported_encoding: UnsupportedEncodingError,
  internal_error: InternalError,
  not_found: NotFoundError,
  conflict: ConflictError,
  tier_in_use: TierInUseError,
  api_client_exists: ApiClientExistsError,
  rate_limit_exceeded: RateLimitExceededError,
  concurrency_limit_exceeded: ConcurrencyLimitExceededError,
  daily_budget_exceeded: DailyBudgetExceededError,
  monthly_budget_exceeded: MonthlyBudgetExceededError,
  exceeds_capacity: ExceedsCapacityError,
};

/** The typed error of an error answer; a code this client does not know keeps the base class. */
export function errorOf(status: number, body: Body): TokenBudgetError {
  const code = typeof body.error === 'string' ? body.error : `http_${status}`;
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  const Known = BY_CODE[code];
  if (Known !== undefined) {
    return new Known(message, status, body);
  }
  return status === 429
    ? new BudgetRefusedError(code, message, status, body)
    : new TokenBudgetError(code, message, status, body);
}
