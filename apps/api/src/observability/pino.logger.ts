import { Injectable, type LoggerService } from '@nestjs/common';
import { pino, type Level } from 'pino';
import { AppConfig } from '#config';

/** The process's one pino logger: JSON lines on stdout, at the level LOG_LEVEL names. */
export const rootLogger = pino({ level: 'info' });

/**
 * Nest's own logs (bootstrap, module errors, the error filter's 5xx) through the root pino
 * logger, one JSON line each with the Nest `context`: `{"level", "time", "context", "msg"}`.
 */
@Injectable()
export class PinoNestLogger implements LoggerService {
  constructor(config: AppConfig) {
    rootLogger.level = config.get('LOG_LEVEL');
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Nest passes (message, ...details, context); error's first detail is a stack. */
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!rootLogger.isLevelEnabled(level)) {
      return;
    }
    const details = [...params];
    const fields: Record<string, unknown> = {};
    if (details.length > 0 && typeof details[details.length - 1] === 'string') {
      fields.context = details.pop();
    }
    if (level === 'error' && typeof details[0] === 'string') {
      fields.stack = details[0];
    }
    if (message instanceof Error) {
      rootLogger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      rootLogger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      rootLogger[level](fields, String(message));
    }
  }
}
