import { Global, Module } from '@nestjs/common';
import { PinoNestLogger } from './pino.logger.js';

/**
 * Structured JSON logs: Nest's own logs through pino (PinoNestLogger), and one line per request
 * written by the Fastify hook of request-log.ts with the request id, status, time and the
 * decision fields the handlers assign. Keys and prompt text are never logged.
 */
@Global()
@Module({
  providers: [PinoNestLogger],
  exports: [PinoNestLogger],
})
export class LoggingModule {}
