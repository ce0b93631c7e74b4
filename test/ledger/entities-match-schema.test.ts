import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSourceOptions } from '#ledger';
import { testEnv } from '../support/test-env.js';

/**
 * The entities must describe the migrated schema exactly (names, constraints, defaults), or
 * `npm run migration:generate` writes a migration that drops them. The schema builder's log() is
 * exactly what migration:generate computes; it only reads the catalogue, never writes.
 */
let dataSource: DataSource;

beforeAll(async () => {
  dataSource = new DataSource(
    dataSourceOptions({ DATABASE_URL: testEnv().databaseUrl, DATA_DIR: '.' }),
  );
  await dataSource.initialize();
});

afterAll(async () => {
  await dataSource.destroy();
});

describe('entities and migrations', () => {
  it('leave migration:generate nothing to do on a freshly migrated database', async () => {
    const { upQueries } = await dataSource.driver.createSchemaBuilder().log();
    const queries = upQueries.map((query) => query.query);
    expect(queries, `migration:generate would run:\n${queries.join(';\n')}`).toEqual([]);
  });

  it('map every table the migrations create (a table without an entity is never compared)', async () => {
    const rows: { table_name: string }[] = await dataSource.query(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> $1`,
      [dataSource.options.migrationsTableName],
    );
    const mapped = dataSource.entityMetadatas.map((metadata) => metadata.tableName);
    expect(mapped.sort()).toEqual(rows.map((row) => row.table_name).sort());
  });
});
