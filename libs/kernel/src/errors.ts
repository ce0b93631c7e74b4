import { coded } from './domain.error.js';

/**
 * One class per stable error code, whatever lib throws it; the OpenAPI document lists them from
 * DOMAIN_ERRORS. A message or status changed here changes the contract (SPEC §4).
 */

export class InvalidRequestError extends coded('invalid_request', 400) {}

/** The body is empty or not JSON (Fastify's parser refused it). */
export class InvalidJsonError extends coded('invalid_json', 400) {
  constructor(fault: 'empty' | 'not_json') {
    super(
      fault === 'empty'
        ? 'The body is empty but the content type says JSON.'
        : 'The body is not valid JSON.',
    );
  }
}

export class UnauthorizedError extends coded('unauthorized', 401) {
  constructor(fault: 'missing' | 'unknown') {
    super(
      fault === 'missing'
        ? 'Missing API key: send the header "Authorization: Bearer <api key>".'
        : 'The API key is unknown or has been revoked.',
    );
  }
}

export class PayloadTooLargeError extends coded('payload_too_large', 413) {
  constructor() {
    super('The request body is larger than this service accepts.');
  }
}

export class UnsupportedMediaTypeError extends coded('unsupported_media_type', 415) {
  constructor() {
    super('Send the body as application/json.');
  }
}

/** A body or id that is not well-formed Unicode (invalid UTF-8, or an unpaired surrogate). */
export class MalformedUnicodeError extends coded('malformed_unicode', 400) {
  constructor(where: string) {
    super(
      `The ${where} is not well-formed Unicode (invalid UTF-8 or an unpaired surrogate such as \\ud800); send text as valid UTF-8.`,
    );
  }
}

/** A URL Fastify cannot decode (a bad percent-escape such as %ZZ). */
export class InvalidUrlError extends coded('invalid_url', 400) {
  constructor(url: string) {
    super(`The URL ${url.slice(0, 200)} is not valid: check its percent-escapes (%XX, UTF-8).`);
  }
}

/** A path parameter longer than any valid id. */
export class UriTooLongError extends coded('uri_too_long', 414) {
  constructor() {
    super('The URL is longer than any valid id allows (subject ids are at most 256 characters).');
  }
}

/** Request headers larger than the server reads. */
export class HeadersTooLargeError extends coded('headers_too_large', 431) {
  constructor() {
    super('The request headers are larger than this service accepts.');
  }
}

/** A dependency the answer needs (the key store) is unreachable; retrying later can succeed. */
export class ServiceUnavailableError extends coded('service_unavailable', 503) {}

/** Redis is unreachable and REDIS_FAILURE_MODE=closed (or a settlement) cannot do without it. */
export class StoreUnavailableError extends coded('store_unavailable', 503) {
  constructor(while_: 'deciding' | 'settling') {
    super(
      while_ === 'deciding'
        ? 'The budget store (Redis) is unreachable and REDIS_FAILURE_MODE=closed refuses to decide without it; retry shortly.'
        : 'The budget store (Redis) is unreachable, so this reservation cannot be settled now; retry shortly (settling is idempotent).',
    );
  }
}

export class ReservationNotFoundError extends coded('reservation_not_found', 404) {
  constructor(reservationId: string) {
    super(
      `No reservation ${reservationId}: it was never issued (or it was lost with the store before it was settled).`,
    );
  }
}

export class ReservationConflictError extends coded('reservation_conflict', 409) {
  /** With `first`: the same settlement was repeated with another usage (the first one stands). */
  constructor(
    reservationId: string,
    status: string,
    first?: { promptTokens: number; completionTokens: number },
  ) {
    super(
      first
        ? `Reservation ${reservationId} is already ${status} with ${first.promptTokens} prompt and ${first.completionTokens} completion tokens; that usage stands and cannot be changed.`
        : `Reservation ${reservationId} is already ${status}; it cannot be settled another way.`,
      { status },
    );
  }
}

/** A check's idempotency key was used before, for a check with another body (SPEC §4). */
export class IdempotencyKeyReusedError extends coded('idempotency_key_reused', 409) {
  constructor() {
    super(
      'This idempotency_key was already used for a check with a different body; use a new key for a new check.',
    );
  }
}

/** No `models` row for this name and no `*` row to fall back on (SPEC §5). */
export class UnknownModelError extends coded('unknown_model', 400) {
  constructor(model: string) {
    super(`Unknown model "${model}": it has no row in the models catalogue.`, { model });
  }
}

export class UnknownTierError extends coded('unknown_tier', 404) {
  constructor(tier: string) {
    super(`Unknown tier "${tier}".`, { tier });
  }
}

/**
 * The subject's tier row exists but cannot be used (skipped at load: see the error log and
 * token_budget_catalogue_rows_skipped), or DEFAULT_TIER has no row: an operator must fix it;
 * judging the check on another tier could overspend or refuse wrongly.
 */
export class TierUnavailableError extends coded('tier_unavailable', 503) {
  constructor(tier: string, reason: string) {
    super(`The tiers row "${tier}" cannot be used (${reason}); an operator must fix it.`, {
      tier,
    });
  }
}

/** As TierUnavailableError, for the models row a model name resolves to. */
export class ModelUnavailableError extends coded('model_unavailable', 503) {
  constructor(model: string, reason: string) {
    super(`The models row "${model}" cannot be used (${reason}); an operator must fix it.`, {
      model,
    });
  }
}

export class ApiClientExistsError extends coded('api_client_exists', 409) {
  constructor(name: string) {
    super(`An API client named "${name}" or with this key already exists.`, { name });
  }
}

/**
 * The ledger could not confirm a write (Postgres unreachable, timed out, or the connection died
 * mid-commit). The settlement may or may not be stored: retrying is safe because appends are
 * idempotent per reservation id.
 */
export class LedgerUnavailableError extends coded('ledger_unavailable', 503) {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The usage ledger is unavailable: ${reason}`);
    if (options?.cause !== undefined) {
      this.cause = options.cause;
    }
  }
}

/** A settlement that Postgres would refuse whatever its state: a bug in the caller, never retried. */
export class InvalidSettlementError extends coded('invalid_settlement', 500) {
  constructor(reservationId: unknown, problem: string) {
    super(`Settlement ${String(reservationId)} is invalid: ${problem}`, {
      reservation_id: reservationId,
    });
  }
}

/** A catalogue `token_multiplier` that is not a positive number: counting it would bill wrong. */
export class InvalidTokenMultiplierError extends coded('invalid_token_multiplier', 500) {
  constructor(model: string, multiplier: unknown) {
    super(
      `Model "${model}" has token_multiplier ${String(multiplier)}; it must be a positive number.`,
      { model },
    );
  }
}

/** A catalogue row names an encoding this service cannot load: an operator's mistake. */
export class UnsupportedEncodingError extends coded('unsupported_encoding', 500) {
  constructor(model: string, encoding: string, supported: readonly string[]) {
    super(
      `Model "${model}" is configured with encoding "${encoding}", which is not one of ${supported.join(', ')}.`,
      { model, encoding },
    );
  }
}

/** An admin route called with a caller key (SPEC §4 Admin API). */
export class ForbiddenError extends coded('forbidden', 403) {
  constructor() {
    super('This route needs an admin API key.');
  }
}

/** An admin route naming a row that does not exist. */
export class NotFoundError extends coded('not_found', 404) {
  constructor(kind: string, name: string) {
    super(`No ${kind} named "${name}".`);
  }
}

/** An admin change the data refuses: a reference still in use, or a row that already exists. */
export class ConflictError extends coded('conflict', 409) {}

/** A tier cannot be deleted while subjects still have it. */
export class TierInUseError extends coded('tier_in_use', 409) {
  constructor(tier: string, subjects: number) {
    super(
      `Tier "${tier}" is still the tier of ${subjects} subject(s); move them to another tier first.`,
      { subjects },
    );
  }
}

/** Every error class, by which the OpenAPI document and the docs list the stable codes. */
export const DOMAIN_ERRORS = [
  InvalidRequestError,
  InvalidJsonError,
  UnauthorizedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  MalformedUnicodeError,
  InvalidUrlError,
  UriTooLongError,
  HeadersTooLargeError,
  ServiceUnavailableError,
  StoreUnavailableError,
  ReservationNotFoundError,
  ReservationConflictError,
  IdempotencyKeyReusedError,
  UnknownModelError,
  UnknownTierError,
  TierUnavailableError,
  ModelUnavailableError,
  ApiClientExistsError,
  LedgerUnavailableError,
  InvalidSettlementError,
  InvalidTokenMultiplierError,
  UnsupportedEncodingError,
  ForbiddenError,
  NotFoundError,
  ConflictError,
  TierInUseError,
] as const;

export type ErrorCode = (typeof DOMAIN_ERRORS)[number]['code'];
