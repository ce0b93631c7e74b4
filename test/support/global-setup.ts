import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '#ledger';
import { unlinkUnder } from './redis-keys.js';
import { assertTestDatabaseName, databaseUrlWithName } from './test-database.js';

/**
 * One run, one database and one Redis key prefix: created here, dropped after.
 * TEST_DATABASE_URL names the server (its database is only used to create ours);
 * TEST_REDIS_URL the Redis node.
 */
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const databaseName = `token_budget_test_${runId}`;
  const databaseUrl = databaseUrlWithName(serverUrl, databaseName);
  const keyPrefix = `tbtest:${runId}:`;
  assertTestDatabaseName(databaseUrl);

  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `Tests need PostgreSQL at ${serverUrl} (TEST_DATABASE_URL) and could not connect: ${String(error)}. ` +
        'Start it (for example `pg_ctlcluster 15 main start`, or `docker compose up -d postgres`) or set TEST_DATABASE_URL.',
      { cause: error },
    );
  }
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    await admin.end();
    redis.disconnect();
    throw new Error(
      `Tests need Redis at ${redisUrl} (TEST_REDIS_URL) and could not connect: ${String(error)}. ` +
        'Start it (for example `redis-server --daemonize yes --save ""`, or `docker compose up -d redis`) or set TEST_REDIS_URL.',
      { cause: error },
    );
  }

  await admin.query(`CREATE DATABASE "${databaseName}"`);
  await migrateDatabase(databaseUrl);

  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);
  project.provide('keyPrefix', keyPrefix);

  return async () => {
    await unlinkUnder(redis, keyPrefix);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    await admin.end();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
    keyPrefix: string;
  }
}
