import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { deleteKeysUnder } from '../../support/redis-keys.js';
import { migrateDatabase } from '#ledger';

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface BenchEnvironment {
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>;
  dispose: () => Promise<void>;
}

/** A throwaway database and key prefix for one benchmark run, removed by dispose(). */
export async function benchEnvironment(): Promise<BenchEnvironment> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const name = `token_budget_bench_test_${runId}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  await migrateDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const keyPrefix = `tbbench:${runId}:`;
  return {
    databaseUrl,
    redisUrl,
    keyPrefix,
    sql: (text, params) => pool.query(text, params),
    dispose: async () => {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await deleteKeysUnder(redisUrl, keyPrefix);
    },
  };
}

export interface RunningProcess {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts a compiled entry point and waits until it prints `listening on <url>`. */
export function startProcess(entry: string, env: Record<string, string>): Promise<RunningProcess> {
  // Compiled to dist/test/bench/support/: four levels up is the repository root.
  const script = fileURLToPath(new URL(`../../../../${entry}`, import.meta.url));
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), script],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${entry} did not start: ${output}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}: ${output}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({
          url: match[1]!.replace('localhost', '127.0.0.1'),
          child,
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

/** Starts the compiled service (dist/apps/api/src/main.js) against a bench environment. */
export function startService(
  bench: BenchEnvironment,
  env: Record<string, string> = {},
): Promise<RunningProcess & { key: string }> {
  const key = `tb_bench_${randomBytes(12).toString('hex')}`;
  return startProcess('dist/apps/api/src/main.js', {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: bench.databaseUrl,
    REDIS_URL: bench.redisUrl,
    REDIS_KEY_PREFIX: bench.keyPrefix,
    BOOTSTRAP_API_KEY: key,
    LOG_LEVEL: 'warn',
    ...env,
  }).then((running) => ({ ...running, key }));
}
