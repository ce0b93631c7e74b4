import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '#config';
import { dataSourceOptions } from './data-source.options.js';
import { ConciseTypeOrmLogger } from './typeorm.logger.js';

/**
 * Entry point of the TypeORM CLI (`npm run migration:run`): the same options as the service,
 * with a logger that prints what the CLI did (which migrations ran or were reverted).
 */
export default new DataSource({
  ...dataSourceOptions(validateEnvironment(process.env)),
  logger: new ConciseTypeOrmLogger(true),
});
