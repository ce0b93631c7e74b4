import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { DEGRADED, HEALTH, NOT_READY, READY } from '../decision/decision.examples.js';
import { schemaRef } from '../decision/decision.schemas.js';

const CHECK: SchemaObject = { type: 'string', enum: ['up', 'down'] };

export const HEALTH_SCHEMAS: Record<string, SchemaObject> = {
  Health: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['ok'] } },
    required: ['status'],
  },
  Readiness: {
    type: 'object',
    properties: {
      status: {
        type: 'string',
        enum: ['ok', 'degraded', 'not_ready'],
        description:
          'ok: Redis (or the in-process store) and Postgres answer and checks are decided on the shared store; degraded: checks are decided, but in a fallback (Redis down in local or open mode, or Postgres down); not_ready: checks cannot be decided (Redis down in closed mode, starting, stopping)',
      },
      checks: {
        type: 'object',
        properties: { store: CHECK, database: CHECK },
        required: ['store', 'database'],
      },
      modes: {
        type: 'object',
        properties: {
          store: { type: 'string', enum: ['redis', 'memory'] },
          decisions: {
            type: 'string',
            enum: ['redis', 'memory', 'local_fallback', 'open_allow_all', 'closed_refusing'],
            description: 'How checks are decided right now: a fallback while Redis is unreachable',
          },
          database: { type: 'string', enum: ['postgres', 'embedded'] },
          redis_failure_mode: { type: 'string', enum: ['local', 'open', 'closed'] },
          expired_reservation_policy: { type: 'string', enum: ['charge', 'release'] },
        },
      },
    },
    required: ['status', 'checks', 'modes'],
  },
};

/** Class level: open routes, no key. */
export const ApiHealthRoutes = () => applyDecorators(ApiTags('health'));

export const ApiLiveness = () =>
  applyDecorators(
    ApiOperation({ summary: 'Liveness: answers without touching any dependency' }),
    ApiResponse({
      status: 200,
      description: 'Alive.',
      schema: schemaRef('Health'),
      examples: { ok: { summary: 'ok', value: HEALTH } },
    }),
  );

export const ApiReadiness = () =>
  applyDecorators(
    ApiOperation({
      summary: 'Readiness: 200 while checks can be decided (ok or degraded), and the active modes',
    }),
    ApiResponse({
      status: 200,
      description: 'Checks are decided: on the shared store (ok) or in a fallback (degraded).',
      schema: schemaRef('Readiness'),
      examples: {
        ok: { summary: 'ok', value: READY },
        degraded: { summary: 'degraded', value: DEGRADED },
      },
    }),
    ApiResponse({
      status: 503,
      description: 'Checks cannot be decided: Redis down in closed mode, or stopping.',
      schema: schemaRef('Readiness'),
      examples: { not_ready: { summary: 'not_ready', value: NOT_READY } },
    }),
  );
