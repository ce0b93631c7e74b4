import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { benchEnvironment, startService } from './support/bench-service.js';

/**
 * npm run bench:commit — check + commit pairs over HTTP against one service process with real
 * Postgres and Redis: durable commits per second and commit latency (p50/p99), beside the same
 * number of single-row INSERT transactions done one at a time (the naive ledger) in the same run.
 */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 128);
const SUBJECTS = 5_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function post(
  url: string,
  key: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) {
    throw new Error(`${path} answered ${response.status}: ${JSON.stringify(parsed)}`);
  }
  return parsed;
}

async function servicePairs(
  url: string,
  key: string,
): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < PAIRS; i = next++) {
        const check = await post(url, key, '/v1/check', {
          subject: `bench_commit_${i % SUBJECTS}`,
          model: 'gpt-4o-mini',
          prompt_tokens: 300,
          max_tokens: 200,
        });
        const t0 = performance.now();
        await post(url, key, '/v1/commit', {
          reservation_id: check.reservation_id,
          usage: { prompt_tokens: 300, completion_tokens: 120 + (i % 80) },
        });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return {
    seconds: (performance.now() - started) / 1000,
    latencies: latencies.sort((a, b) => a - b),
  };
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

async function main(): Promise<void> {
  const bench = await benchEnvironment();
  await bench.sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
     VALUES ('bench', 10000000, 1000000000, 10000, 1000000)`,
  );
  const service = await startService(bench, { DEFAULT_TIER: 'bench' });
  try {
    process.stdout.write(
      `bench:commit — ${PAIRS} check+commit pairs, ${CONCURRENCY} concurrent callers, one service process\n`,
    );
    const { seconds, latencies } = await servicePairs(service.url, service.key);
    const rows = await bench.sql(
      `SELECT count(*)::int AS n FROM usage_ledger WHERE status = 'committed'`,
    );
    const batches = await bench.sql(`SELECT count(DISTINCT xmin)::int AS n FROM usage_ledger`);
    const durable = (rows.rows[0] as { n: number }).n;
    const naive = await naiveInserts(bench.databaseUrl, Math.min(PAIRS, 5_000));
    const perSecond = durable / seconds;
    process.stdout.write(
      `service: ${durable} durable ledger rows in ${seconds.toFixed(2)} s = ${perSecond.toFixed(0)} commits/s (check+commit pairs over HTTP)   commit p50 ${percentile(latencies, 50).toFixed(2)} ms   p99 ${percentile(latencies, 99).toFixed(2)} ms   ledger transactions ${(batches.rows[0] as { n: number }).n} (avg ${(durable / (batches.rows[0] as { n: number }).n).toFixed(1)} rows each)\n`,
    );
    process.stdout.write(
      `naive:   ${naive.toFixed(0)} single-row INSERT transactions/s, one at a time\n`,
    );
    process.stdout.write(`ratio service ÷ naive = ${(perSecond / naive).toFixed(2)}\n`);
  } finally {
    await service.stop();
    await bench.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
