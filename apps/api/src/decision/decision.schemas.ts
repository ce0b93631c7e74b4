import { getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { DIMENSIONS } from '#budget';

/**
 * The /v1 response bodies as named OpenAPI schemas (SPEC §4), registered as components by
 * http/openapi.ts and referenced from decision.openapi.ts.
 */

export const schemaRef = (name: string): SchemaObject =>
  ({ $ref: getSchemaPath(name) }) as SchemaObject;
const money = (description: string): SchemaObject => ({
  type: 'string',
  pattern: '^\\d+\\.\\d{6}$',
  description: `${description} (USD, six fractional digits)`,
  example: '0.008205',
});
const count = (description: string): SchemaObject => ({ type: 'integer', minimum: 0, description });
const instant = (description: string): SchemaObject => ({
  type: 'string',
  format: 'date-time',
  description,
});
const object = (properties: Record<string, SchemaObject>, required = Object.keys(properties)) => ({
  type: 'object' as const,
  properties,
  required,
});

const BUCKET = object({
  limit: count('Capacity of the bucket (token_burst where set).'),
  remaining: count('Whole units left, rounded down.'),
  reset_seconds: count('Seconds until the bucket is full again, rounded up.'),
});

const ESTIMATE_SCHEMA = object({
  prompt_tokens: count('Prompt tokens (counted, or as given).'),
  completion_tokens: count('Completion tokens reserved.'),
  cost_usd: money('Price of both'),
});

export const DECISION_SCHEMAS: Record<string, SchemaObject> = {
  ErrorBody: {
    ...object({
      error: { type: 'string', description: 'Stable error code.', example: 'invalid_request' },
      message: { type: 'string', description: 'A human sentence.' },
    }),
    additionalProperties: true,
    description: 'Every error: `{ error, message, ...details }`.',
  },
  Limits: {
    ...object(
      {
        requests: BUCKET,
        tokens: BUCKET,
        concurrent: object({
          limit: count('In-flight reservations allowed.'),
          remaining: count(''),
        }),
        daily_cost: object({
          limit_usd: money('Daily limit'),
          remaining_usd: money('Left today, after committed and in-flight cost'),
          reset_at: instant('Next 00:00 UTC.'),
        }),
        monthly_cost: object({
          limit_usd: money('Monthly limit'),
          remaining_usd: money('Left this month, after committed and in-flight cost'),
          reset_at: instant('00:00 UTC on the 1st of next month.'),
        }),
        model_requests: BUCKET,
        model_tokens: BUCKET,
      },
      [],
    ),
    description: 'Only the dimensions that are limited for this subject (and model) appear.',
  },
  Estimate: ESTIMATE_SCHEMA,
  CheckAllowed: object({
    allowed: { type: 'boolean', enum: [true] },
    reservation_id: { type: 'string', description: 'Send it to /v1/commit or /v1/refund.' },
    subject: { type: 'string' },
    tier: { type: 'string' },
    model: { type: 'string' },
    estimate: schemaRef('Estimate'),
    granted_max_tokens: count('Cap the inference here (less than asked when degraded).'),
    expires_at: instant('When the reservation is settled by expiry if never committed.'),
    limits: schemaRef('Limits'),
  }),
  CheckRefused: {
    ...object(
      {
        error: {
          type: 'string',
          enum: [
            'rate_limit_exceeded',
            'concurrency_limit_exceeded',
            'daily_budget_exceeded',
            'exceeds_capacity',
          ],
        },
        message: { type: 'string' },
        dimension: {
          type: 'string',
          enum: [...DIMENSIONS],
        },
        retry_after_seconds: {
          type: 'integer',
          minimum: 1,
          description: 'Equal to Retry-After; absent for exceeds_capacity.',
        },
        limit: {
          description: 'Of the refusing dimension; a money string for daily_cost and monthly_cost.',
        },
        remaining: {
          description: 'Of the refusing dimension; a money string for daily_cost and monthly_cost.',
        },
        reset_at: instant('When this request would fit; absent for exceeds_capacity.'),
        limits: schemaRef('Limits'),
      },
      ['error', 'message', 'dimension', 'limit', 'remaining', 'limits'],
    ),
  },
  EstimateResult: object({
    subject: { type: 'string' },
    tier: { type: 'string' },
    model: { type: 'string' },
    estimate: schemaRef('Estimate'),
  }),
  Settled: object({
    reservation_id: { type: 'string' },
    status: { type: 'string', enum: ['committed', 'refunded'] },
    usage: object({ prompt_tokens: count('Charged.'), completion_tokens: count('Charged.') }),
    cost_usd: money('Charged'),
    limits: schemaRef('Limits'),
  }),
  SubjectUsage: object({
    subject: { type: 'string' },
    tier: { type: 'string' },
    limits: schemaRef('Limits'),
    today: object({
      date: { type: 'string', format: 'date', description: 'The UTC day.' },
      cost_usd: money('Charged today'),
      requests: count('Charged settlements today.'),
      prompt_tokens: count(''),
      completion_tokens: count(''),
    }),
    month: object({
      month: { type: 'string', pattern: '^\\d{4}-\\d{2}$', description: 'The UTC month.' },
      cost_usd: money('Charged this month'),
      requests: count('Charged settlements this month.'),
      prompt_tokens: count(''),
      completion_tokens: count(''),
    }),
    in_flight: {
      type: 'array',
      items: object({
        reservation_id: { type: 'string' },
        model: { type: 'string' },
        expires_at: instant(''),
        estimate: schemaRef('Estimate'),
      }),
    },
  }),
};
