import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type EnvironmentVariables, validateEnvironment } from '../../../libs/config/src/index.js';
import { AppModule } from './app.module.js';

/**
 * Builds the HTTP application from a validated environment: used by main.ts and by the
 * end-to-end tests, so both run the same pipes, guards, filters and body limits.
 */
export async function createApp(
  env: EnvironmentVariables = validateEnvironment(process.env),
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: env.BODY_LIMIT_BYTES,
    // Deeply nested JSON is refused by validation; keep the parser from being a DoS vector too.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    bufferLogs: true,
  });
  app.enableShutdownHooks();
  return app;
}
