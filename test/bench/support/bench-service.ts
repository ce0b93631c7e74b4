import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deleteKeysUnder } from '../../support/redis-keys.js';
import { migrateDatabase } from '#ledger';

const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * A private redis-server for the run (unless BENCH_REDIS_URL names one): the Redis CPU per
 * request and the script calls counted are then this run's alone, not those of whatever else
 * uses the shared Redis.
 */
async function privateRedis(): Promise<{ url: string; stop: () => void }> {
  if (process.env.BENCH_REDIS_URL) {
    return { url: process.env.BENCH_REDIS_URL, stop: () => undefined };
  }
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined); // refused until it listens
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      break;
    } catch (error) {
      client.disconnect();
      if (attempt > 100) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { url, stop: () => child.kill('SIGKILL') };
}

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
  const redis = await privateRedis();
  const redisUrl = redis.url;
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
      redis.stop();
    },
  };
}

export interface RunningProcess {
  url: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

/** Starts a compiled entry point and waits until it prints `listening on <url>`. */
export function startProcess(
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<RunningProcess> {
  // Compiled to dist/test/bench/support/: four levels up is the repository root.
  const script = fileURLToPath(new URL(`../../../../${entry}`, import.meta.url));
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...nodeArgs, script],
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
  nodeArgs: string[] = [],
): Promise<RunningProcess & { key: string }> {
  const key = `tb_bench_${randomBytes(12).toString('hex')}`;
  return startProcess(
    'dist/apps/api/src/main.js',
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: bench.databaseUrl,
      REDIS_URL: bench.redisUrl,
      REDIS_KEY_PREFIX: bench.keyPrefix,
      BOOTSTRAP_API_KEY: key,
      LOG_LEVEL: 'warn',
      ...env,
    },
    nodeArgs,
  ).then((running) => ({ ...running, key }));
}
