/**
 * SIGTERM on the compiled service (`node dist/apps/api/src/main.js`, its own process) while
 * requests are in flight: it stops taking new ones, finishes the accepted ones with their normal
 * answers, makes every acknowledged commit durable, and exits 0.
 * Precondition: dist/ exists (`npm test` builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { unique } from '../support/app.harness.js';
import { testEnv } from '../support/test-env.js';

const MAIN = 'dist/apps/api/src/main.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

let child: ChildProcess;
let output = '';
let url: URL;
let db: pg.Pool;
let key: string;
const tier = unique('shutdown');

/** Keeps its connections open after an answer, as a load balancer does. */
const keepAlive = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000 });

/** A POST whose body is sent in two parts: `finish()` sends the rest. */
function slowPost(
  path: string,
  body: unknown,
  agent: http.Agent | false = false,
): { answer: Promise<Answer>; finish: () => void } {
  const text = JSON.stringify(body);
  const cut = Math.floor(text.length / 2);
  const request = http.request({
    host: url.hostname,
    port: url.port,
    path,
    method: 'POST',
    agent,
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      let raw = '';
      response.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(raw || '{}') as Answer['body'],
        }),
      );
    });
    request.on('error', reject);
  });
  request.write(text.slice(0, cut));
  return { answer, finish: () => request.end(text.slice(cut)) };
}

async function post(path: string, body: unknown): Promise<Answer> {
  const response = await fetch(new URL(path, url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

/** A GET on a fresh connection: its status, or the connection error's code. */
function freshGet(path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get(
      { host: url.hostname, port: url.port, path, agent: false },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const check = (subject: string, extra: Record<string, unknown> = {}) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 100,
  max_tokens: 50,
  ...extra,
});

const ledgerIds = async (ids: string[]): Promise<string[]> =>
  (
    await db.query<{ reservation_id: string }>(
      `SELECT reservation_id FROM usage_ledger WHERE reservation_id = ANY($1) AND status = 'committed'`,
      [ids],
    )
  ).rows.map((row) => row.reservation_id);

beforeAll(async () => {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does).`);
  }
  const { databaseUrl, redisUrl, keyPrefix } = testEnv();
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // Our own caller and a roomy tier: other test files share this database.
  ({ key } = await insertApiClient((text, params) => db.query(text, params), 'shutdown-caller'));
  await db.query(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
     VALUES ($1, 100000, 100000000, NULL, NULL)`,
    [tier],
  );
  child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      DEFAULT_TIER: tier,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!/listening on (http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the service did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  url = new URL(/listening on (http:\/\/\S+)/.exec(output)![1]!.replace('localhost', '127.0.0.1'));
});

afterAll(async () => {
  keepAlive.destroy();
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
  }
  await db?.end();
});

describe('SIGTERM', () => {
  it('finishes accepted requests, refuses new ones, keeps every acknowledged commit, exits 0', async () => {
    // Reservations to commit while the service stops.
    const reservations: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const allowed = await post('/v1/check', check(unique('held')));
      expect(allowed.status).toBe(200);
      reservations.push(String(allowed.body.reservation_id));
    }

    // Background load: check+commit pairs until the service stops answering.
    const acknowledged: string[] = [];
    const statuses = new Set<number>();
    let load = true;
    const worker = async (): Promise<void> => {
      while (load) {
        try {
          const allowed = await post('/v1/check', check(unique('load')));
          statuses.add(allowed.status);
          if (allowed.status !== 200) {
            continue;
          }
          const id = String(allowed.body.reservation_id);
          const committed = await post('/v1/commit', {
            reservation_id: id,
            usage: { prompt_tokens: 90, completion_tokens: 20 },
          });
          statuses.add(committed.status);
          if (committed.status === 200) {
            acknowledged.push(id);
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20)); // refused: stopped listening
        }
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());

    // Accepted before SIGTERM, bodies still arriving: commits, checks, and checks with a
    // large prompt that takes a while to count.
    const slowCommits = reservations.map((id) =>
      slowPost('/v1/commit', {
        reservation_id: id,
        usage: { prompt_tokens: 100, completion_tokens: 30 },
      }),
    );
    // Some on keep-alive connections that then stay idle: they must not hold the exit.
    const slowChecks = Array.from({ length: 5 }, (_, i) =>
      slowPost('/v1/check', check(unique('slow')), i % 2 === 0 ? keepAlive : false),
    );
    const bigPrompt = 'The quick brown fox jumps over the lazy dog, again and again. '.repeat(
      12_000,
    );
    const bigChecks = Array.from({ length: 4 }, () =>
      slowPost('/v1/check', {
        subject: unique('big'),
        model: 'gpt-4o',
        prompt: bigPrompt,
        max_tokens: 10,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const big of bigChecks) {
      big.finish();
    }

    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    const termAt = Date.now();
    child.kill('SIGTERM');
    while (!output.includes('SIGTERM received')) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(output).toMatch(/SIGTERM received: finishing in-flight requests/);

    // New connections: refused or answered 503, never served.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([503, 'ECONNREFUSED', 'ECONNRESET']).toContain(await freshGet('/healthz'));

    for (const slow of [...slowCommits, ...slowChecks]) {
      slow.finish();
    }
    const commits = await Promise.all(slowCommits.map((slow) => slow.answer));
    const checks = await Promise.all([...slowChecks, ...bigChecks].map((slow) => slow.answer));
    load = false;
    await Promise.all(workers);

    for (const [i, answer] of commits.entries()) {
      expect(answer, `commit ${i}`).toMatchObject({ status: 200, body: { status: 'committed' } });
    }
    for (const [i, answer] of checks.entries()) {
      expect(answer, `check ${i}`).toMatchObject({ status: 200, body: { allowed: true } });
    }
    expect(checks.at(-1)!.body.estimate).toMatchObject({ prompt_tokens: expect.any(Number) });
    // The load saw only normal answers and 503s, never a 5xx of another kind.
    expect([...statuses].filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);

    const exit = await Promise.race([
      exited,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000)),
    ]);
    expect(exit, `still running 10 s after SIGTERM:\n${output}`).not.toBeNull();
    const { code, at } = exit!;
    expect(code, output).toBe(0);
    expect(at - termAt).toBeLessThan(5_000);
    // Every commit answered 200 is in the ledger.
    expect((await ledgerIds(reservations)).sort()).toEqual([...reservations].sort());
    expect((await ledgerIds(acknowledged)).sort()).toEqual([...acknowledged].sort());
  });
});
