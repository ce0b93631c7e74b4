import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
  type ApiResponseOptions,
} from '@nestjs/swagger';

/** Response documentation of /v1/admin: every route needs an admin key. */

const ERROR = { $ref: '#/components/schemas/ErrorBody' };

const error = (status: number, description: string) =>
  ApiResponse({ status, description, schema: ERROR });

const money = { type: 'string', pattern: '^\\d+\\.\\d{6}$', example: '12.345678' };
const limit = { type: 'integer', nullable: true, minimum: 1 };

export const ADMIN_SCHEMAS: Record<string, object> = {
  AdminTier: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      requests_per_minute: limit,
      tokens_per_minute: limit,
      token_burst: limit,
      max_concurrent: limit,
      daily_cost_limit_usd: { type: 'string', nullable: true, example: '50' },
      monthly_cost_limit_usd: { type: 'string', nullable: true, example: '1000' },
      updated_at: { type: 'string', format: 'date-time' },
      subjects: { type: 'integer', description: 'Subjects with this tier.' },
    },
  },
  AdminSubject: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      tier: { type: 'string' },
      parent: { type: 'string', nullable: true },
      created_at: { type: 'string', format: 'date-time' },
      updated_at: { type: 'string', format: 'date-time' },
    },
  },
  AdminModel: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      encoding: { type: 'string', nullable: true },
      input_usd_per_mtok: { type: 'string' },
      cached_input_usd_per_mtok: { type: 'string', nullable: true },
      output_usd_per_mtok: { type: 'string' },
      default_max_tokens: { type: 'integer' },
      token_multiplier: { type: 'string' },
    },
  },
  AdminTierModelLimit: {
    type: 'object',
    properties: {
      tier: { type: 'string' },
      model: { type: 'string' },
      requests_per_minute: limit,
      tokens_per_minute: limit,
    },
  },
  AdminKey: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      role: { type: 'string', enum: ['caller', 'admin'] },
      created_at: { type: 'string', format: 'date-time' },
      revoked_at: { type: 'string', format: 'date-time', nullable: true },
      previous_key_expires_at: {
        type: 'string',
        format: 'date-time',
        nullable: true,
        description: 'Until when the key replaced by the last rotation still works.',
      },
      key: { type: 'string', description: 'Only in the answer that made it: shown once.' },
    },
  },
  SpendRow: {
    type: 'object',
    properties: {
      key: { type: 'string', nullable: true, description: 'The group (null: caller unknown).' },
      cost_usd: money,
      requests: { type: 'integer', description: 'Charged ledger rows (cost > 0).' },
      prompt_tokens: { type: 'integer' },
      completion_tokens: { type: 'integer' },
      cached_tokens: { type: 'integer' },
    },
  },
  SpendReport: {
    type: 'object',
    properties: {
      from: { type: 'string', format: 'date' },
      to: { type: 'string', format: 'date' },
      group_by: { type: 'string', enum: ['subject', 'model', 'tier', 'caller', 'day'] },
      rows: { type: 'array', items: { $ref: '#/components/schemas/SpendRow' } },
      total: { $ref: '#/components/schemas/SpendRow' },
    },
  },
  AdminAlert: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      subject: { type: 'string' },
      tier: { type: 'string' },
      window: { type: 'string', enum: ['day', 'month'] },
      period: { type: 'string', example: '2026-11-22' },
      threshold_percent: { type: 'integer' },
      limit_usd: { type: 'string' },
      spent_usd: { type: 'string' },
      raised_at: { type: 'string', format: 'date-time' },
      delivered_at: { type: 'string', format: 'date-time', nullable: true },
      attempts: { type: 'integer' },
      last_error: { type: 'string', nullable: true },
      delivery: { type: 'string', enum: ['delivered', 'retrying', 'pending'] },
    },
  },
  AdminOverview: {
    type: 'object',
    properties: {
      refusals_last_hour: {
        type: 'object',
        properties: {
          since: { type: 'string', format: 'date-time' },
          scope: { type: 'string', example: 'this instance' },
          by_dimension: { type: 'object', additionalProperties: { type: 'integer' } },
          total: { type: 'integer' },
        },
      },
      modes: { type: 'object', additionalProperties: { type: 'string' } },
    },
  },
};

const ref = (name: string, array = false) =>
  array
    ? { type: 'array', items: { $ref: `#/components/schemas/${name}` } }
    : { $ref: `#/components/schemas/${name}` };

/** On every admin controller: tag, bearer auth, 401 and 403. */
export const ApiAdminRoutes = (tag: string) =>
  applyDecorators(
    ApiTags(tag),
    ApiBearerAuth(),
    error(401, 'Missing, unknown or revoked API key.'),
    error(403, '`forbidden`: the key is a caller key, not an admin key.'),
  );

interface RouteDoc {
  summary: string;
  description?: string;
  /** The success status and schema name (`[name]` for an array); none for 204. */
  ok?: [number, string] | [number, string, 'array'];
  /** A create-or-replace PUT: `ok` is its 200 (replaced), and 201 (created) has the same body. */
  upsert?: true;
  errors?: [number, string][];
  extra?: ApiResponseOptions[];
}

function successes(doc: RouteDoc): ApiResponseOptions[] {
  if (!doc.ok) {
    return [{ status: 204, description: 'Done; no body.' }];
  }
  const schema = ref(doc.ok[1], doc.ok[2] === 'array');
  return doc.upsert
    ? [
        { status: 200, description: 'Replaced the existing row.', schema },
        { status: 201, description: 'Created the row.', schema },
      ]
    : [{ status: doc.ok[0], description: 'OK', schema }];
}

export const ApiAdmin = (doc: RouteDoc) =>
  applyDecorators(
    ApiOperation({ summary: doc.summary, description: doc.description }),
    ...successes(doc).map((options) => ApiResponse(options)),
    ...(doc.errors ?? []).map(([status, description]) => error(status, description)),
    ...(doc.extra ?? []).map((options) => ApiResponse(options)),
  );

export const ApiCsv = () => ApiProduces('application/json', 'text/csv');
