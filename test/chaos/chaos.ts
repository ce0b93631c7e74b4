/**
 * `npm run chaos`: the fault runs of SPEC §7 against real processes, with their figures.
 *
 * Two service instances (compiled, as `npm start` runs them) share a private redis-server and a
 * throwaway Postgres database reached through a TCP proxy. Callers run check → commit loops
 * against both (a commit answered 503 or cut off is retried, as a gateway would, on whichever
 * instance is alive). Phases, each CHAOS_PHASE_SECONDS long (default 30) followed by a recovery
 * window under the same load: Redis paused (SIGSTOP/SIGCONT), Redis killed and restarted empty,
 * Postgres refused, Postgres black-holed (accepts, never answers), one of the two instances
 * SIGKILLed. Then the load stops, every reservation is left to expire and be swept, and the
 * ledger and Redis are compared with what the callers were told.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrateDatabase } from '#ledger';
import { PostgresProxy } from '../ledger/ledger.helpers.js';
import { keysUnder } from '../support/redis-keys.js';
import { ThrowawayRedis } from '../support/redis-server.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';

const PHASE_MS = Number(process.env.CHAOS_PHASE_SECONDS ?? 30) * 1000;
const RECOVERY_MS = Math.max(5_000, Math.min(15_000, PHASE_MS / 2));
const TTL_SECONDS = 10;
const CALLERS_PER_INSTANCE = 6;
const SUBJECTS = 40;
const RETRY_FOR_MS = 90_000;
const REQUEST_TIMEOUT_MS = 20_000;
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Sample {
  phase: string;
  kind: 'check' | 'commit';
  status: string;
  ms: number;
}

const samples: Sample[] = [];
let phase = 'starting';
let running = true;
/** Every reservation id a caller received (a 200 check). */
const received = new Set<string>();
/** Every reservation whose commit was answered 200. */
const committed = new Set<string>();
/** Checks answered 200 whose commit never was (a retry gave up). */
const abandoned = new Set<string>();
let falseAnswers = 0;

const key = `chaos_${randomBytes(16).toString('hex')}`;

async function call(
  instance: ServiceProcess,
  kind: Sample['kind'],
  body: unknown,
): Promise<{ status: string; body: Record<string, unknown> }> {
  const started = performance.now();
  let status: string;
  let parsed: Record<string, unknown> = {};
  try {
    const response = await fetch(`${instance.url}/v1/${kind}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    status = String(response.status);
    parsed = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (status === '503' || status === '500') {
      status = `${status} ${String(parsed.error)}`;
    }
  } catch (error) {
    status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'connection error';
  }
  samples.push({ phase, kind, status, ms: performance.now() - started });
  return { status, body: parsed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function caller(home: number, instances: ServiceProcess[], subjects: string[]) {
  const alive = (i: number) => instances[i]!.child.exitCode === null && !instances[i]!.child.killed;
  while (running) {
    const at = alive(home) ? home : 1 - home;
    const subject = subjects[Math.floor(Math.random() * subjects.length)]!;
    const check = await call(instances[at]!, 'check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 500,
      max_tokens: 100,
      ttl_seconds: TTL_SECONDS,
    });
    if (check.status !== '200') {
      await sleep(check.status.startsWith('5') || check.status.includes('error') ? 100 : 20);
      continue;
    }
    const id = String(check.body.reservation_id);
    received.add(id);
    await sleep(10);
    // Commit; a 503 or a cut connection is retried (on an instance that is alive) until durable.
    const deadline = Date.now() + RETRY_FOR_MS;
    let target = at;
    for (;;) {
      const commit = await call(instances[target]!, 'commit', {
        reservation_id: id,
        usage: { prompt_tokens: 500, completion_tokens: 40 },
      });
      if (commit.status === '200') {
        committed.add(id);
        break;
      }
      if (commit.status === '404' || commit.status === '409') {
        falseAnswers += 1;
        break;
      }
      if (Date.now() > deadline || !commit.status.match(/^(503|timeout|connection)/)) {
        abandoned.add(id);
        break;
      }
      target = alive(target) ? target : 1 - target;
      await sleep(500);
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function report(phases: string[]): string {
  const lines = [
    `${'phase'.padEnd(30)} ${'requests'.padStart(8)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}  by status`,
  ];
  for (const name of phases) {
    const of = samples.filter((s) => s.phase === name);
    const ms = of.map((s) => s.ms).sort((a, b) => a - b);
    const counts = new Map<string, number>();
    for (const s of of) {
      const k = `${s.kind} ${s.status}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const by = [...counts]
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    lines.push(
      `${name.padEnd(30)} ${String(of.length).padStart(8)} ${percentile(ms, 0.99).toFixed(0).padStart(7)} ${(ms.at(-1) ?? 0).toFixed(0).padStart(7)}  ${by}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbName = `token_budget_chaos_test_${runId}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  admin.on('error', () => undefined); // the run reports; a dropped connection must not crash it
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${dbName}`;
  await migrateDatabase(dbUrl.toString());
  const sql = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  sql.on('error', () => undefined);
  const redis = await ThrowawayRedis.start();
  const proxy = new PostgresProxy(dbUrl);
  await proxy.start();
  const keyPrefix = `tbchaos:${runId}:`;
  const instances: ServiceProcess[] = [];
  try {
    await sql.query(
      `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
       VALUES ('chaos', 100000, 100000000, 1000, 1000)`,
    );
    const subjects = Array.from({ length: SUBJECTS }, (_, i) => `chaos_${runId}_${i}`);
    for (const subject of subjects) {
      await sql.query(`INSERT INTO subjects (id, tier) VALUES ($1, 'chaos')`, [subject]);
    }
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: proxy.url,
      REDIS_KEY_PREFIX: keyPrefix,
      REDIS_FAILURE_MODE: 'local',
      EXPIRED_RESERVATION_POLICY: 'charge',
      BOOTSTRAP_API_KEY: key,
      LOG_LEVEL: 'error',
    };
    instances.push(await startServiceProcess(env), await startServiceProcess(env));
    const loops = instances.flatMap((_, home) =>
      Array.from({ length: CALLERS_PER_INSTANCE }, () => caller(home, instances, subjects)),
    );

    const phases: string[] = [];
    const run = async (
      name: string,
      fault: () => Promise<void> | void,
      heal: () => Promise<void> | void,
    ) => {
      phase = name;
      phases.push(name);
      process.stderr.write(`${new Date().toISOString()} ${name}\n`);
      await fault();
      await sleep(PHASE_MS);
      await heal();
      phase = `${name}: recovery`;
      phases.push(phase);
      await sleep(RECOVERY_MS);
    };
    phase = 'baseline';
    phases.push(phase);
    await sleep(Math.min(PHASE_MS, 10_000));
    const s = PHASE_MS / 1000;
    await run(
      `redis paused ${s} s`,
      () => redis.pause(),
      () => redis.resume(),
    );
    await run(
      `redis killed ${s} s, restarted empty`,
      () => redis.kill(),
      () => redis.start(),
    );
    await run(
      `postgres refused ${s} s`,
      () => proxy.stop(),
      () => proxy.start(),
    );
    await run(
      `postgres black-holed ${s} s`,
      () => proxy.hang(),
      async () => {
        await proxy.stop();
        await proxy.start();
      },
    );
    let killedAt = 0;
    await run(
      `instance SIGKILLed (1 of 2)`,
      () => {
        killedAt = Date.now();
        instances[1]!.child.kill('SIGKILL');
      },
      () => undefined,
    );
    running = false;
    phase = 'drain';
    await Promise.all(loops);
    // Every reservation expires within TTL_SECONDS and is swept within 10 s more.
    await sleep((TTL_SECONDS + 15) * 1000);

    const rows = (
      await sql.query(
        `SELECT reservation_id, status, floor(extract(epoch FROM reserved_at) * 1000)::bigint::text AS at
           FROM usage_ledger WHERE subject = ANY($1)`,
        [subjects],
      )
    ).rows as { reservation_id: string; status: string; at: string }[];
    const byId = new Map<string, number>();
    for (const row of rows) {
      byId.set(row.reservation_id, (byId.get(row.reservation_id) ?? 0) + 1);
    }
    const committedInLedger = [...committed].filter((id) => byId.get(id) === 1).length;
    const duplicates = [...byId.values()].filter((n) => n > 1).length;
    const unreceived = rows.filter((row) => !received.has(row.reservation_id));
    // A check in flight when its instance was SIGKILLed: reserved, never answered, then expired.
    const inFlightAtKill = unreceived.filter((row) => Math.abs(Number(row.at) - killedAt) < 2_000);
    const stale = unreceived.length - inFlightAtKill.length;
    const unsettled = [...received].filter((id) => !byId.has(id)).length;
    const client = new Redis(redis.url);
    let leases = 0;
    for (const lease of (await keysUnder(redis.url, keyPrefix)).filter((k) =>
      k.endsWith(':lease'),
    )) {
      leases += await client.zcard(lease);
    }
    client.disconnect();

    const out = [
      `chaos: 2 instances (REDIS_FAILURE_MODE=local, EXPIRED_RESERVATION_POLICY=charge), ${CALLERS_PER_INSTANCE * 2} callers (check → commit, a 503 or cut commit retried), phases of ${s} s + ${RECOVERY_MS / 1000} s recovery`,
      report(phases),
      '',
      `checks answered 200 (reservations received): ${received.size}`,
      `commits answered 200: ${committed.size}; in the ledger exactly once: ${committedInLedger}; ledger ids more than once: ${duplicates}`,
      `received but never settled in the ledger: ${unsettled} (commits given up: ${abandoned.size})`,
      `stale reservations (in the ledger, never received by a caller): ${stale}`,
      `reserved by the SIGKILLed instance while in flight, settled by expiry: ${inFlightAtKill.length}`,
      `false 404/409 answers: ${falseAnswers}`,
      `leases left in Redis: ${leases}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    running = false;
    await Promise.allSettled(instances.map((instance) => instance.stop(10_000)));
    redis.resume();
    await redis.kill();
    await proxy.stop();
    await sql.end();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
