import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { validateEnvironment } from '#config';
import { createApp } from '../../apps/api/src/app.factory.js';
import { insertApiClient } from './api-clients.js';
import { type Reply, type Requester, httpClient } from './http.client.js';
import { testEnv } from './test-env.js';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  key: string;
  /** The Redis key prefix this app uses (its own, unless REDIS_KEY_PREFIX was passed). */
  keyPrefix: string;
  redisUrl: string;
  databaseUrl: string;
  /** Runs SQL on this run's database (tier and subject fixtures). */
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>;
  request: Requester;
  close: () => Promise<void>;
}

export type { Reply };

/**
 * The real service on a spare port, on this run's database and a key prefix of its own. `env`
 * overrides any variable: REDIS_KEY_PREFIX of another app makes two instances share one store,
 * REDIS_URL or DATABASE_URL point the app (only) elsewhere; `sql` stays on this run's database.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const defaults = testEnv();
  const databaseUrl = defaults.databaseUrl;
  const redisUrl = env.REDIS_URL ?? defaults.redisUrl;
  const keyPrefix = env.REDIS_KEY_PREFIX ?? defaults.keyPrefix;
  const app = await createApp(
    validateEnvironment({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      LOG_LEVEL: 'silent',
      ...env,
    }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // A caller of this app's own: test files share the run's database, so never the bootstrap one.
  const sql = (text: string, params?: unknown[]) => pool.query(text, params);
  const { key } = await insertApiClient(sql, 'test-caller');

  const request = httpClient(url, key);

  return {
    app,
    url,
    key,
    keyPrefix,
    redisUrl,
    databaseUrl,
    sql,
    request,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}

// The one unique()/eventually() of the tests, here too for the files that start an app.
export { eventually, unique } from './polling.js';
