import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
  type HeadersObject,
} from '@nestjs/swagger';
import {
  CHECK_ALLOWED,
  CHECK_REFUSED,
  COMMITTED,
  ERRORS,
  ESTIMATE,
  REFUNDED,
  SUBJECT_USAGE,
} from './decision.examples.js';
import { schemaRef as ref } from './decision.schemas.js';

/** The request body of a route: a component derived from the contract (decision.contract.ts). */
const body = (name: string) => ApiBody({ required: true, schema: ref(name) });

/**
 * Response documentation of the /v1 endpoints: the rate-limit headers and one decorator per
 * endpoint with its statuses, schemas (decision.schemas.ts) and examples (decision.examples.ts).
 */

type ErrorCode = keyof typeof ERRORS;

const header = (description: string, type: 'integer' | 'string' = 'integer') => ({
  description,
  schema: { type },
});

/** On every check and commit answer, for the dimensions that are limited (SPEC §4 Headers). */
const RATE_LIMIT_HEADERS: HeadersObject = {
  'x-ratelimit-limit-requests': header('Requests per minute (bucket capacity).'),
  'x-ratelimit-remaining-requests': header('Requests left, rounded down.'),
  'x-ratelimit-reset-requests': header('Until the request bucket is full, e.g. `6s`.', 'string'),
  'x-ratelimit-limit-tokens': header('Tokens per minute (bucket capacity).'),
  'x-ratelimit-remaining-tokens': header('Tokens left, rounded down.'),
  'x-ratelimit-reset-tokens': header(
    'Until the token bucket is full, e.g. `6m0s`, `250ms`.',
    'string',
  ),
  'X-RateLimit-Limit': header('Requests dimension: capacity.'),
  'X-RateLimit-Remaining': header('Requests dimension: whole requests left.'),
  'X-RateLimit-Reset': header('Requests dimension: Unix epoch second at which it is full again.'),
};

const RETRY_AFTER: HeadersObject = {
  'Retry-After': header(
    'Whole seconds ≥ 1, equal to `retry_after_seconds`; not on exceeds_capacity.',
  ),
};

const examples = (bodies: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(bodies).map(([name, value]) => [name, { summary: name, value }]),
  );

function respond(
  status: number,
  description: string,
  schema: string,
  bodies: Record<string, unknown>,
  headers?: HeadersObject,
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description,
    schema: ref(schema),
    examples: examples(bodies),
    headers,
  });
}

/** One response per status, its examples the bodies the error classes answer (status included). */
function errors(description: string, codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const status = ERRORS[codes[0]!].status;
  if (codes.some((code) => ERRORS[code].status !== status)) {
    throw new Error(`The errors ${codes.join(', ')} answer different statuses.`);
  }
  return respond(
    status,
    description,
    'ErrorBody',
    Object.fromEntries(codes.map((code) => [code, ERRORS[code].toBody()])),
  );
}

/** Faults of any JSON body: bad input, too large, not JSON. */
const BODY_ERRORS = [
  errors('The body is larger than BODY_LIMIT_BYTES.', ['payload_too_large']),
  errors('The body is not application/json.', ['unsupported_media_type']),
];

/** Class level: every /v1 route needs a caller's key. */
export const ApiCallerRoutes = (tag: string) =>
  applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(),
    errors('Missing, unknown or revoked API key.', ['unauthorized_missing', 'unauthorized']),
  );

export const ApiCheck = () =>
  applyDecorators(
    body('CheckRequestDto'),
    ApiOperation({
      summary: 'Reserve the estimate of an inference, or refuse it',
      description:
        'Counts the prompt with the model tokenizer, prices prompt and completion, and ' +
        'atomically reserves them against every limit of the subject. Nothing is charged when refused.',
    }),
    respond(
      200,
      'Allowed: the reservation.',
      'CheckAllowed',
      { allowed: CHECK_ALLOWED },
      RATE_LIMIT_HEADERS,
    ),
    errors('Invalid input or a model with no price.', [
      'invalid_request',
      'invalid_json',
      'unknown_model',
    ]),
    ...BODY_ERRORS,
    respond(429, 'Refused: the body names the refusing dimension.', 'CheckRefused', CHECK_REFUSED, {
      ...RETRY_AFTER,
      ...RATE_LIMIT_HEADERS,
    }),
    errors('Redis unreachable with REDIS_FAILURE_MODE=closed.', ['store_unavailable']),
  );

export const ApiEstimate = () =>
  applyDecorators(
    body('EstimateRequestDto'),
    ApiOperation({
      summary: 'Count and price an inference without reserving',
      description: 'The same input as /v1/check; nothing is reserved or charged.',
    }),
    respond(200, 'The estimate.', 'EstimateResult', { estimate: ESTIMATE }),
    errors('Invalid input or a model with no price.', [
      'invalid_request',
      'invalid_json',
      'unknown_model',
    ]),
    ...BODY_ERRORS,
  );

const SETTLE_ERRORS = [
  errors('Invalid input.', ['invalid_request', 'invalid_json']),
  ...BODY_ERRORS,
  errors('No such reservation (never issued).', ['reservation_not_found']),
  errors('Already settled another way (committed, refunded or expired).', ['reservation_conflict']),
  errors('The settlement could not be made durable; retry (it is idempotent).', [
    'ledger_unavailable',
    'store_unavailable_settling',
  ]),
];

export const ApiCommit = () =>
  applyDecorators(
    body('CommitRequestDto'),
    ApiOperation({
      summary: 'Settle a reservation at its real usage',
      description:
        'Unused tokens go back (an overage is debt), the lease ends, and the ledger row is durable ' +
        'in Postgres before the 200. The same commit again answers the same 200.',
    }),
    respond(200, 'Committed.', 'Settled', { committed: COMMITTED }, RATE_LIMIT_HEADERS),
    ...SETTLE_ERRORS,
  );

export const ApiRefund = () =>
  applyDecorators(
    body('RefundRequestDto'),
    ApiOperation({
      summary: 'Release a reservation whose inference failed',
      description:
        'Without usage everything goes back and the ledger records a zero-cost refund; with ' +
        'usage that partial usage is charged. Idempotent and durable before the 200, like commit.',
    }),
    respond(200, 'Refunded.', 'Settled', REFUNDED),
    ...SETTLE_ERRORS,
  );

export const ApiSubjectUsage = () =>
  applyDecorators(
    ApiOperation({
      summary: "A subject's live limits, today's charges and in-flight reservations",
      description: 'Also 200 for a subject with no row (its default tier).',
    }),
    ApiParam({
      name: 'id',
      description: 'The subject id (1–256 printable characters).',
      example: 'user_123',
    }),
    respond(200, 'The usage.', 'SubjectUsage', { usage: SUBJECT_USAGE }),
    errors('The subject id is empty, too long or has control characters.', ['invalid_request']),
  );
