import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { MIGRATIONS } from '#migrations';
import { ENTITIES } from './entities/index.js';
import { ConciseTypeOrmLogger } from './typeorm.logger.js';

export interface DatabaseSettings {
  DATABASE_URL?: string;
  DATA_DIR: string;
}

/**
 * The one TypeORM options object, used by the service, the admin CLI, the tests and the
 * migrations CLI alike. No DATABASE_URL means the embedded PGlite database under DATA_DIR.
 * The schema is never synchronized: migrations/ is its only author.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'token_budget_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error' as const, 'warn' as const],
    logger: new ConciseTypeOrmLogger(),
  };
  if (settings.DATABASE_URL === undefined) {
    const dataDir = join(resolve(settings.DATA_DIR), 'pglite');
    // PGlite creates its own directory but not the parents (a fresh ./data on first start).
    mkdirSync(dataDir, { recursive: true });
    return { ...common, driver: new PGliteDriver({ dataDir }).driver };
  }
  return {
    ...common,
    url: settings.DATABASE_URL,
    // keepAlive: a pooled connection whose server vanished fails instead of hanging for hours.
    extra: { max: 10, connectionTimeoutMillis: 3000, keepAlive: true },
  };
}
