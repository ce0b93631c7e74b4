import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '#config';

/**
 * Structured JSON logs: Nest's own logs through pino (nestjs-pino's Logger), and one line per
 * request written by the Fastify hook of request-log.ts with the request id, status, time and
 * the decision fields the handlers assign. Keys and prompt text are never logged.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // No per-request middleware (request-log.ts says why): the root logger only.
        forRoutes: [],
        pinoHttp: { level: config.get('LOG_LEVEL') },
      }),
    }),
  ],
})
export class LoggingModule {}
