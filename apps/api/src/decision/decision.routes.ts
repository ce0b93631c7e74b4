import type { FastifyInstance, FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { AuthenticatedRequest } from '../auth/api-key.verifier.js';
import type { Caller } from '../auth/caller.js';
import type {
  CheckRequestBody,
  CommitRequestBody,
  EstimateRequestBody,
  RefundRequestBody,
} from './decision.contract.js';
import type { DecisionController } from './decision.controller.js';

/**
 * The hot /v1 routes (check, commit, refund, estimate) call their DecisionController method
 * straight from Fastify, without Nest's per-request pipeline (execution context, guards consumer,
 * pipes, interceptors, response controller): measured on /v1/check, about 7 KB allocated per
 * request and the matching CPU. Nest still declares the routes, so their path, their contract
 * schema (@RouteSchema: Fastify's validation and serialization) and their OpenAPI documentation
 * stay where they are; only the handler Fastify runs is replaced, as each route is registered.
 *
 * What Nest's pipeline did for them is done at the Fastify instance level, for every route:
 * the key is verified in preValidation (authenticateBeforeValidation: each of these routes has a
 * body schema, and none is admin-only), the request id and the log line are Fastify hooks, and a
 * thrown error reaches the instance's error handler, which is Nest's global ErrorFilter. The
 * global ValidationPipe never applied to them (their bodies are interfaces, checked by Fastify).
 */
export function runDecisionRoutesDirectly(
  fastify: FastifyInstance,
  controller: DecisionController,
): void {
  const handlers: Record<string, RouteHandlerMethod> = {
    '/v1/check': (request, reply) =>
      controller.check(request.body as CheckRequestBody, callerOf(request), reply),
    '/v1/estimate': (request) => controller.estimate(request.body as EstimateRequestBody),
    '/v1/commit': (request, reply) =>
      controller.commit(request.body as CommitRequestBody, callerOf(request), reply),
    '/v1/refund': (request, reply) =>
      controller.refund(request.body as RefundRequestBody, callerOf(request), reply),
  };
  fastify.addHook('onRoute', (route) => {
    const handler = route.method === 'POST' ? handlers[route.url] : undefined;
    if (handler !== undefined) {
      route.handler = handler;
    }
  });
}

/** Set by the preValidation hook before any handler runs, or the request was answered 401. */
function callerOf(request: FastifyRequest): Caller {
  const { caller } = request as AuthenticatedRequest;
  if (caller === undefined) {
    throw new Error('A decision route ran without an authenticated caller');
  }
  return caller;
}
