import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source.options.js';

/** Applies every pending migration to the database at this URL (tests and tools). */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const dataSource = new DataSource(
    dataSourceOptions({ DATABASE_URL: databaseUrl, DATA_DIR: '.' }),
  );
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
