import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { HEALTH, NOT_READY, READY } from '../decision/decision.examples.js';
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
      status: { type: 'string', enum: ['ready', 'not_ready'] },
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
    ApiOperation({ summary: 'Readiness: Redis and Postgres reachable, and the active modes' }),
    ApiResponse({
      status: 200,
      description: 'Ready.',
      schema: schemaRef('Readiness'),
      examples: { ready: { summary: 'ready', value: READY } },
    }),
    ApiResponse({
      status: 503,
      description: 'Not ready: a dependency is unreachable.',
      schema: schemaRef('Readiness'),
      examples: { not_ready: { summary: 'not_ready', value: NOT_READY } },
    }),
  );
