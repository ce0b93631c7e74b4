import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { LedgerWriter, dataSourceOptions } from '#ledger';
import { Redis } from 'ioredis';
import { benchEnvironment, startService } from './support/bench-service.js';
import {
  namedProcessesCpuSeconds,
  ownCpuSeconds,
  processCpuSeconds,
  redisCpuSeconds,
} from './support/cpu-usage.js';
import { commandStats, redisTimeLine } from './support/redis-time.js';

/**
 * npm run bench:commit — check + commit pairs over HTTP against one service process with real
 * Postgres and Redis: durable commits per second and request latency, beside single-row INSERT
 * transactions done one at a time (the naive ledger) in the same run.
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SUBJECTS = 5_000;
const NAIVE_ROWS = 5_000;

interface PairContext {
  n?: number;
  reservationId?: string;
}

/**
 * Check + commit pairs with autocannon (fetch would be the bottleneck on two cores): each
 * connection checks, then commits the reservation that check returned, for `seconds`.
 */
function servicePairs(url: string, key: string, seconds: number): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [
      {
        method: 'POST',
        path: '/v1/check',
        setupRequest: (request, context: PairContext) => {
          n += 1;
          context.n = n;
          return {
            ...request,
            body: JSON.stringify({
              subject: `bench_commit_${n % SUBJECTS}`,
              model: 'gpt-4o-mini',
              prompt_tokens: 300,
              max_tokens: 200,
            }),
          };
        },
        onResponse: (status, body, context: PairContext) => {
          context.reservationId =
            status === 200 ? (JSON.parse(body) as { reservation_id: string }).reservation_id : '';
        },
      },
      {
        method: 'POST',
        path: '/v1/commit',
        setupRequest: (request, context: PairContext) => ({
          ...request,
          body: JSON.stringify({
            reservation_id: context.reservationId,
            usage: { prompt_tokens: 300, completion_tokens: 120 + ((context.n ?? 0) % 80) },
          }),
        }),
      },
    ],
  });
}

/** The naive baseline: one INSERT + daily upsert transaction per commit, one at a time. */
async function naiveInserts(databaseUrl: string, count: number): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO usage_ledger (reservation_id, subject, tier, model, prompt_tokens, completion_tokens, cost_usd, status, reserved_at, settled_at)
       VALUES ($1, $2, 'bench', 'gpt-4o-mini', 300, 150, 0.000135, 'committed', now(), now())`,
      [`naive_${randomBytes(8).toString('hex')}`, `naive_${i % SUBJECTS}`],
    );
    await client.query(
      `INSERT INTO daily_usage AS d (subject, day, cost_usd, requests, prompt_tokens, completion_tokens)
       VALUES ($1, current_date, 0.000135, 1, 300, 150)
       ON CONFLICT (subject, day) DO UPDATE SET cost_usd = d.cost_usd + 0.000135, requests = d.requests + 1`,
      [`naive_${i % SUBJECTS}`],
    );
    await client.query('COMMIT');
  }
  const seconds = (performance.now() - started) / 1000;
  await client.end();
  return count / seconds;
}

/** The ledger writer alone, in this process: 20,000 appends from 128 concurrent callers. */
async function writerAppends(databaseUrl: string): Promise<number> {
  const dataSource = new DataSource(
    dataSourceOptions({ DATABASE_URL: databaseUrl, DATA_DIR: '.' }),
  );
  await dataSource.initialize();
  const writer = new LedgerWriter(dataSource, { batchWaitMs: 2 });
  const count = 20_000;
  const at = Date.now();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await writer.append({
          reservationId: `writer_${i}_${randomBytes(4).toString('hex')}`,
          subject: `writer_${i % SUBJECTS}`,
          tier: 'bench',
          model: 'gpt-4o-mini',
          promptTokens: 300,
          completionTokens: 150,
          costMicros: 135,
          status: 'committed',
          reservedAtMs: at,
          settledAtMs: at,
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await dataSource.destroy();
  return count / seconds;
}

async function main(): Promise<void> {
  const bench = await benchEnvironment();
  await bench.sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
     VALUES ('bench', 10000000, 1000000000, 10000, 1000000)`,
  );
  const service = await startService(bench, { DEFAULT_TIER: 'bench' });
  try {
    process.stdout.write(
      `bench:commit — check+commit pairs over HTTP, ${CONNECTIONS} connections, ${SECONDS} s, one service process, Node ${process.version}\n`,
    );
    // Every subject checked once first (left to expire): a subject's first check of the day
    // seeds its day and month from the ledger (Postgres reads and a second script call), which
    // 5,000 fresh subjects would otherwise make a quarter of the measured checks.
    let seeded = 0;
    await autocannon({
      url: `${service.url}/v1/check`,
      method: 'POST',
      connections: CONNECTIONS,
      amount: SUBJECTS,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${service.key}` },
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify({
              subject: `bench_commit_${seeded++ % SUBJECTS}`,
              model: 'gpt-4o-mini',
              prompt_tokens: 300,
              max_tokens: 200,
              ttl_seconds: 60,
            }),
          }),
        },
      ],
    });
    const redis = new Redis(bench.redisUrl);
    const statsBefore = await commandStats(redis);
    const cpuBefore = [
      processCpuSeconds(service.child.pid),
      await redisCpuSeconds(redis),
      namedProcessesCpuSeconds('postgres'),
      ownCpuSeconds(),
    ];
    const result = await servicePairs(service.url, service.key, SECONDS);
    const cpuAfter = [
      processCpuSeconds(service.child.pid),
      await redisCpuSeconds(redis),
      namedProcessesCpuSeconds('postgres'),
      ownCpuSeconds(),
    ];
    const statsAfter = await commandStats(redis);
    redis.disconnect();
    const rows = await bench.sql(
      `SELECT count(*)::int AS n, count(DISTINCT xmin::text)::int AS transactions
       FROM usage_ledger WHERE status = 'committed'`,
    );
    const { n: durable, transactions } = rows.rows[0] as { n: number; transactions: number };
    const naive = await naiveInserts(bench.databaseUrl, NAIVE_ROWS);
    const writer = await writerAppends(bench.databaseUrl);
    const perSecond = durable / SECONDS;
    process.stdout.write(
      `service: ${durable} durable ledger rows in ${SECONDS} s = ${perSecond.toFixed(0)} commits/s   ` +
        `latency of every request (check or commit): p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms   ` +
        `non-2xx ${result.non2xx}   ledger transactions ${transactions} (avg ${(durable / transactions).toFixed(1)} rows each)\n`,
    );
    process.stdout.write(
      `naive:   ${naive.toFixed(0)} single-row INSERT transactions/s, one at a time\n`,
    );
    process.stdout.write(
      `writer:  ${writer.toFixed(0)} durable appends/s through the LedgerWriter alone (group commit, 128 concurrent callers, no HTTP)\n`,
    );
    // What one durable commit (its check and its commit) cost each process, and the ceiling
    // that puts on pairs per second with every core busy.
    const micros = cpuAfter.map((after, i) => ((after - cpuBefore[i]!) * 1e6) / durable);
    const total = micros.reduce((sum, value) => sum + value, 0);
    process.stdout.write(
      `CPU per durable commit (its check and its commit): service ${micros[0]!.toFixed(0)} µs, Redis ${micros[1]!.toFixed(0)} µs, Postgres ${micros[2]!.toFixed(0)} µs, load generator ${micros[3]!.toFixed(0)} µs = ${total.toFixed(0)} µs: at most ${((availableParallelism() * 1e6) / total).toFixed(0)} pairs/s on ${availableParallelism()} cores with all of them busy\n`,
    );
    process.stdout.write(
      `Redis time per durable commit (INFO commandstats): ${redisTimeLine(statsBefore, statsAfter, durable)}\n`,
    );
    const bound =
      writer > perSecond * 2
        ? `the HTTP path: the ledger writer alone durably appends ${writer.toFixed(0)}/s, while each commit over HTTP also needs its check (${(2 * perSecond).toFixed(0)} requests/s through one service process, on ${availableParallelism()} cores shared with the load generator, Redis and Postgres)`
        : `the ledger: the writer alone appends ${writer.toFixed(0)}/s`;
    process.stdout.write(`bounded by ${bound}\n`);
    process.stdout.write(
      `ratio service ÷ naive = ${(perSecond / naive).toFixed(2)}   writer ÷ naive = ${(writer / naive).toFixed(2)}\n`,
    );
  } finally {
    await service.stop();
    await bench.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
