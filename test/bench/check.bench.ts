import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { benchEnvironment, startProcess, startService } from './support/bench-service.js';

/**
 * npm run bench:check — /v1/check (prompt_tokens given, many subjects) on one service process
 * with real Redis and Postgres, against a bare Fastify app answering a fixed JSON, with the same
 * generator settings in the same run. Then /v1/check again at half its measured maximum rate.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/**
 * autocannon paces a fixed rate by firing every connection at each tick: with many connections
 * that burst alone costs tens of milliseconds of p99 even against the bare app. The half-rate
 * runs use fewer connections, for both servers, and print the bare app's figure beside ours.
 */
const HALF_RATE_CONNECTIONS = Number(process.env.BENCH_HALF_CONNECTIONS ?? 8);
const SUBJECTS = 10_000;

function run(
  url: string,
  key: string,
  connections: number,
  overallRate?: number,
): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `${url}/v1/check`,
    method: 'POST',
    connections,
    duration: SECONDS,
    ...(overallRate ? { overallRate } : {}),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    requests: [
      {
        setupRequest: (request) => {
          n += 1;
          return {
            ...request,
            body: JSON.stringify({
              subject: `bench_user_${n % SUBJECTS}`,
              model: 'gpt-4o-mini',
              prompt_tokens: 200 + (n % 50),
              max_tokens: 100,
              ttl_seconds: 30,
            }),
          };
        },
      },
    ],
  });
}

function line(label: string, result: autocannon.Result): string {
  const ok = result['2xx'];
  return `${label.padEnd(34)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50.toFixed(2)} ms   p99 ${result.latency.p99.toFixed(2)} ms   2xx ${ok}  non-2xx ${result.non2xx}  errors ${result.errors}`;
}

/**
 * Script calls Redis has run (EVALSHA and EVAL), from INFO commandstats. Commands a script runs
 * inside Redis are counted there too, so only the script calls themselves measure round trips.
 */
async function redisCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) {
    total += Number(match[2]);
  }
  return total;
}

async function main(): Promise<void> {
  const bench = await benchEnvironment();
  // A generous tier so the benchmark measures decisions that are allowed, not refusals.
  await bench.sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, max_concurrent, daily_cost_limit_usd)
     VALUES ('bench', 1000000, 1000000000, 1000, 1000000)`,
  );
  const service = await startService(bench, { DEFAULT_TIER: 'bench' });
  const bare = await startProcess('dist/test/bench/support/bare-server.js', {});
  try {
    process.stdout.write(
      `bench:check — ${CONNECTIONS} connections, ${SECONDS} s per run, ${SUBJECTS} subjects, Node ${process.version}\n`,
    );
    await run(service.url, service.key, CONNECTIONS); // warm-up: JIT, script load, connection pools
    const baseline = await run(bare.url, service.key, CONNECTIONS);
    const redis = new Redis(bench.redisUrl);
    const before = await redisCalls(redis);
    const max = await run(service.url, service.key, CONNECTIONS);
    const commandsPerCheck = ((await redisCalls(redis)) - before) / max.requests.total;
    redis.disconnect();
    const halfRate = Math.floor(max.requests.average / 2);
    const half = await run(service.url, service.key, HALF_RATE_CONNECTIONS, halfRate);
    const bareHalf = await run(bare.url, service.key, HALF_RATE_CONNECTIONS, halfRate);
    process.stdout.write(`${line('bare fastify (fixed JSON)', baseline)}\n`);
    process.stdout.write(`${line('/v1/check at max rate', max)}\n`);
    process.stdout.write(
      `${line(`/v1/check at half (${halfRate} req/s, ${HALF_RATE_CONNECTIONS} conns)`, half)}\n`,
    );
    process.stdout.write(`${line(`bare fastify at the same rate and conns`, bareHalf)}\n`);
    process.stdout.write(
      `ratio /v1/check ÷ bare = ${(max.requests.average / baseline.requests.average).toFixed(3)}   p99 at half rate = ${half.latency.p99.toFixed(2)} ms   Redis script calls per check (INFO commandstats; the background sweeper's included) = ${commandsPerCheck.toFixed(3)}\n`,
    );
  } finally {
    await Promise.all([service.stop(), bare.stop()]);
    await bench.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
