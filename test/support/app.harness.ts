import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import { validateEnvironment } from '../../libs/config/src/index.js';
import { createApp } from '../../apps/api/src/app.factory.js';
import { hashApiKey } from '../../libs/ledger/src/index.js';
import { testEnv } from './test-env.js';

export interface TestApp {
  app: NestFastifyApplication;
  url: string;
  key: string;
  keyPrefix: string;
  databaseUrl: string;
  /** Runs SQL on this run's database (tier and subject fixtures). */
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>;
  request: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<Reply>;
  close: () => Promise<void>;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** The real service on a spare port, on this run's database and a key prefix of its own. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const { databaseUrl, redisUrl, keyPrefix } = testEnv();
  const key = `tb_test_${randomBytes(12).toString('hex')}`;
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
  await pool.query('INSERT INTO api_clients (name, key_sha256) VALUES ($1, $2)', [
    unique('test-caller'),
    hashApiKey(key),
  ]);

  const request = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { raw: text };
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  return {
    app,
    url,
    key,
    keyPrefix,
    databaseUrl,
    sql: (text, params) => pool.query(text, params),
    request,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}

/** A unique name for fixtures, so test files sharing the run's database never collide. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** Polls until `probe` returns true or the deadline passes (catalogue edits take up to 2 s). */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
