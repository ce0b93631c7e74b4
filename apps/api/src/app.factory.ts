import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EnvironmentVariables, validateEnvironment } from '#config';
import { AppModule } from './app.module.js';
import { setupOpenApi } from './http/openapi.js';
import { requestId } from './http/request-id.js';
import { AJV_OPTIONS } from './http/contract.kit.js';
import { FRAMEWORK_ERROR_OPTIONS, acceptJsonOnly } from './http/fastify.guards.js';
import { ApiKeyVerifier, authenticateBeforeValidation } from './auth/api-key.verifier.js';
import { logRequests } from './observability/request-log.js';
import { PinoNestLogger } from './observability/pino.logger.js';
import { DecisionController } from './decision/decision.controller.js';
import { runDecisionRoutesDirectly } from './decision/decision.routes.js';

/**
 * Builds the HTTP application from a validated environment: used by main.ts and by the
 * end-to-end tests, so both run the same pipes, guards, filters and body limits.
 */
export async function createApp(
  env: EnvironmentVariables = validateEnvironment(process.env),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // While shutting down, new requests get 503 and in-flight ones finish.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: requestId,
    // A subject id is up to 256 characters, each up to 12 bytes percent-encoded (4 UTF-8 bytes):
    // every valid id must fit /v1/subjects/{id}/usage (Fastify's default is 100).
    routerOptions: { maxParamLength: 256 * 12 },
    // The /v1 bodies are validated by the contract's JSON Schemas (decision.contract.ts).
    ajv: AJV_OPTIONS,
    ...FRAMEWORK_ERROR_OPTIONS,
  });
  // Synchronous hooks (done callbacks): no promise per request.
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  logRequests(adapter.getInstance());
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // Nest's own 503 from the first moment of app.close(): Fastify's return503OnClosing above
    // only starts once the shutdown hooks have run and the server itself closes.
    return503OnClosing: true,
    // The Fastify instance parses bodies itself (acceptJsonOnly): no form-encoded parser.
    bodyParser: false,
  });
  app.useLogger(app.get(PinoNestLogger));
  authenticateBeforeValidation(adapter.getInstance(), app.get(ApiKeyVerifier));
  runDecisionRoutesDirectly(adapter.getInstance(), app.get(DecisionController));
  // JSON only, well-formed: any other content type is a 415, for every route.
  acceptJsonOnly(adapter.getInstance());
  setupOpenApi(app);
  await app.init();
  return app;
}
