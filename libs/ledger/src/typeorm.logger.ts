import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';

/**
 * TypeORM's own error log prints each failed statement with all its parameters: for a ledger
 * batch, thousands of values (subject ids included) per failure, on every retry of an outage.
 * This one logs the error and the start of the statement only (parameters never), and warnings.
 */
export class ConciseTypeOrmLogger implements Logger {
  private readonly logger = new NestLogger('TypeORM');

  /**
   * @param announce print schema and migration progress on stdout: the TypeORM CLI reports
   * everything through these two methods (`migration:run`, `:revert`, `:show`), nothing else.
   */
  constructor(private readonly announce = false) {}

  logQuery(): void {
    // Not logged: one line per statement would drown everything else.
  }

  logQueryError(error: string | Error, query: string): void {
    const message = error instanceof Error ? error.message : error;
    const statement = query.replace(/\s+/g, ' ').trim();
    this.logger.error(
      `${message} [${statement.length > 120 ? `${statement.slice(0, 120)}…` : statement}]`,
    );
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow statement (${time} ms): ${query.replace(/\s+/g, ' ').slice(0, 120)}`);
  }

  // Otherwise schema and migration chatter is not logged: callers that migrate say so themselves.
  logSchemaBuild(message: string): void {
    if (this.announce) {
      process.stdout.write(`${message}\n`);
    }
  }

  logMigration(message: string): void {
    this.logSchemaBuild(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') {
      this.logger.warn(String(message));
    }
  }
}
