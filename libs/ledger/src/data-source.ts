import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '../../config/src/env.schema.js';
import { dataSourceOptions } from './data-source.options.js';

/** Entry point of the TypeORM CLI (`npm run migration:run`): the same options as the service. */
export default new DataSource(dataSourceOptions(validateEnvironment(process.env)));
