import { randomBytes } from 'node:crypto';
import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions, migrateDatabase } from '#ledger';
import { SpendService } from '../../apps/api/src/admin/spend.service.js';
import { SPEND_GROUPS } from '../../apps/api/src/admin/spend.dto.js';

/**
 * npm run bench:spend — GET /v1/admin/spend's query over a month of 1,000,000 ledger rows (plus
 * the month before, which the date range must skip), for every group_by: median and worst of
 * BENCH_RUNS runs after one warm-up. The goal is under 200 ms for a month of 1 M rows.
 */
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<void> {
  const name = `token_budget_bench_test_spend_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const ds = new DataSource({ ...dataSourceOptions({ DATABASE_URL: databaseUrl, DATA_DIR: '.' }) });
  try {
    await migrateDatabase(databaseUrl);
    await ds.initialize();
    const started = performance.now();
    // The month measured (November 2026) and as many rows in October, outside the range.
    for (const [month, days] of [
      ['2026-11-01', 30],
      ['2026-10-01', 31],
    ] as const) {
      await ds.query(
        `INSERT INTO usage_ledger (reservation_id, subject, tier, model, caller, prompt_tokens,
           completion_tokens, cached_tokens, cost_usd, status, reserved_at, settled_at)
         SELECT $1 || '-' || n, 'user-' || (n % 5000), (ARRAY['free','standard','enterprise'])[1 + n % 3],
                (ARRAY['gpt-4o','gpt-4o-mini','o3','gpt-5','claude-sonnet-4'])[1 + n % 5],
                'gateway-' || (n % 4), 1000 + n % 700, 200 + n % 300, n % 500,
                ((n::bigint * 7919) % 20000000) / 1000000.0, 'committed', at, at
         FROM generate_series(1, $2::int) AS n,
              -- Spread evenly over every second of the month.
              LATERAL (SELECT $3::timestamptz
                              + ((n - 1)::bigint * $4::int * 86400 / $2::int) * interval '1 second'
                              AS at) t`,
        [month, ROWS, `${month}T00:00:00Z`, days],
      );
    }
    await ds.query('VACUUM ANALYZE usage_ledger');
    process.stdout.write(
      `filled ${2 * ROWS} ledger rows (${ROWS} in the month measured) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    const spend = new SpendService(ds);
    for (const groupBy of SPEND_GROUPS) {
      const query = { from: '2026-11-01', to: '2026-11-30', group_by: groupBy, limit: 100 };
      const first = await spend.report(query);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i += 1) {
        const t0 = performance.now();
        await spend.report(query);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const median = times[Math.floor(times.length / 2)]!;
      process.stdout.write(
        `group_by=${groupBy.padEnd(8)} median ${median.toFixed(1)} ms, worst ${times.at(-1)!.toFixed(1)} ms ` +
          `(${first.rows.length} rows, total $${first.total.cost_usd}, ${first.total.requests} requests) ` +
          `${median < 200 ? 'under' : 'OVER'} 200 ms\n`,
      );
    }
  } finally {
    if (ds.isInitialized) {
      await ds.destroy();
    }
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

await main();
