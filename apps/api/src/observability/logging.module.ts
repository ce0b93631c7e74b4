import type { IncomingMessage, ServerResponse } from 'node:http';
import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../../../../libs/config/src/index.js';

/**
 * Structured JSON logs through the Nest logger: one line per request at info with its request
 * id (Fastify's, see request-id.ts), status and time, plus the decision fields that
 * DecisionService assigns (subject, tier, model, decision, reservation id). Keys and prompt text are never logged.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // Every route, in Nest 12's path syntax.
        forRoutes: ['{*splat}'],
        // Fields assigned during the request land on its one 'request completed' line.
        assignResponse: true,
        pinoHttp: {
          level: config.get('LOG_LEVEL'),
          // The req serializer keeps no headers at all, so the key (Authorization) never reaches
          // a log line and there is nothing left for a redaction pass to do on each request.
          serializers: {
            req: (req: { id: string; method: string; url: string }) => ({
              id: req.id,
              method: req.method,
              url: req.url,
            }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
            error || res.statusCode >= 500 ? 'error' : 'info',
          autoLogging: { ignore: (req: IncomingMessage) => req.url === '/metrics' },
        },
      }),
    }),
  ],
})
export class LoggingModule {}
