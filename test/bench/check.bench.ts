import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { benchEnvironment, startProcess, startService } from './support/bench-service.js';
import { ownCpuSeconds, processCpuSeconds, redisCpuSeconds } from './support/cpu-usage.js';
import { type PacedLoadResult, pacedLoad } from './support/paced-load.js';

/**
 * npm run bench:check — /v1/check (prompt_tokens given, many subjects) on one service process
 * with real Redis and Postgres, against a bare Fastify app answering a fixed JSON, with the same
 * generator settings in the same run. Then /v1/check again at half its measured maximum rate,
 * alternating with the bare app at the same rate, STEADY_RUNS times.
 */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SUBJECTS = 10_000;
/**
 * Steady-rate runs per server, alternating: one 10 s window's p99 swings with whatever else the
 * machine does then (seen here: from 6 to 48 ms between runs), so the median is what is judged.
 */
const STEADY_RUNS = Number(process.env.BENCH_STEADY_RUNS ?? 3);

/**
 * The reservations keep the default TTL (600 s), so none expires during the run: a gateway
 * commits or refunds each one, and the bench measures the checks themselves, not the expiry
 * sweeper settling every reservation ever made (the sweeper still runs its passes).
 */
function checkBody(n: number): string {
  return JSON.stringify({
    subject: `bench_user_${n % SUBJECTS}`,
    model: 'gpt-4o-mini',
    prompt_tokens: 200 + (n % 50),
    max_tokens: 100,
  });
}

function headers(key: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${key}` };
}

/** As many requests as the server answers, over CONNECTIONS connections (autocannon). */
function maxRate(url: string, key: string): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `${url}/v1/check`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: headers(key),
    requests: [{ setupRequest: (request) => ({ ...request, body: checkBody(n++) }) }],
  });
}

/** A steady open-loop rate, evenly spaced (see paced-load.ts for why not autocannon). */
function steadyRate(
  url: string,
  key: string,
  rate: number,
  seconds = SECONDS,
): Promise<PacedLoadResult> {
  return pacedLoad({
    url,
    path: '/v1/check',
    headers: headers(key),
    body: checkBody,
    rate,
    seconds,
    connections: CONNECTIONS,
  });
}

function line(label: string, result: autocannon.Result): string {
  const ok = result['2xx'];
  return `${label.padEnd(40)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50.toFixed(2)} ms   p99 ${result.latency.p99.toFixed(2)} ms   2xx ${ok}  non-2xx ${result.non2xx}  errors ${result.errors}`;
}

function steadyLine(label: string, rate: number, result: PacedLoadResult): string {
  return `${label.padEnd(40)} ${String(rate).padStart(7)} req/s   p50 ${result.p50.toFixed(2)} ms   p99 ${result.p99.toFixed(2)} ms   max ${result.max.toFixed(2)} ms   2xx ${result.ok}  failed ${result.failed}`;
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

/** The run whose p99 is the median of the runs'. */
function medianByP99(results: PacedLoadResult[]): PacedLoadResult {
  return [...results].sort((a, b) => a.p99 - b.p99)[Math.floor((results.length - 1) / 2)]!;
}

interface CpuCost {
  server: string;
  redis: string;
  generator: string;
}

/**
 * CPU time per request over one run, from its start to perRequest(): the server process (all its
 * threads; "n/a" without /proc), Redis (INFO cpu) and this process, the load generator.
 */
function cpuMeter(redis: Redis, pid: number | undefined) {
  const server = processCpuSeconds(pid);
  const generator = ownCpuSeconds();
  const redisStart = redisCpuSeconds(redis);
  return {
    perRequest: async (requests: number): Promise<CpuCost> => {
      const micros = (seconds: number): string =>
        Number.isNaN(seconds) ? 'n/a' : ((seconds * 1e6) / requests).toFixed(0);
      return {
        server: micros(processCpuSeconds(pid) - server),
        redis: micros((await redisCpuSeconds(redis)) - (await redisStart)),
        generator: micros(ownCpuSeconds() - generator),
      };
    },
  };
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
    await maxRate(service.url, service.key); // warm-up: JIT, script load, connection pools
    const redis = new Redis(bench.redisUrl);
    const bareCpu = cpuMeter(redis, bare.child.pid);
    const baseline = await maxRate(bare.url, service.key);
    const bareCost = await bareCpu.perRequest(baseline.requests.total);
    const before = await redisCalls(redis);
    const serviceCpu = cpuMeter(redis, service.child.pid);
    const max = await maxRate(service.url, service.key);
    const serviceCost = await serviceCpu.perRequest(max.requests.total);
    const commandsPerCheck = ((await redisCalls(redis)) - before) / max.requests.total;
    redis.disconnect();
    const halfRate = Math.floor(max.requests.average / 2);
    // The steady generator's own warm-up (JIT, connections) before either is measured: its
    // first second on a cold process runs tens of milliseconds late, whichever server it meets.
    await steadyRate(service.url, service.key, halfRate, 2);
    await steadyRate(bare.url, service.key, halfRate, 2);
    const halves: PacedLoadResult[] = [];
    const bareHalves: PacedLoadResult[] = [];
    for (let run = 0; run < STEADY_RUNS; run++) {
      halves.push(await steadyRate(service.url, service.key, halfRate));
      bareHalves.push(await steadyRate(bare.url, service.key, halfRate));
    }
    const half = medianByP99(halves);
    process.stdout.write(`${line('bare fastify (fixed JSON), max rate', baseline)}\n`);
    process.stdout.write(`${line('/v1/check, max rate', max)}\n`);
    halves.forEach((result, run) => {
      process.stdout.write(
        `${steadyLine(`/v1/check, steady half of its max (${run + 1})`, halfRate, result)}\n`,
      );
      process.stdout.write(
        `${steadyLine(`bare fastify, same steady rate (${run + 1})`, halfRate, bareHalves[run]!)}\n`,
      );
    });
    process.stdout.write(
      `CPU per request at max rate, µs: /v1/check service ${serviceCost.server} + Redis ${serviceCost.redis} (generator ${serviceCost.generator});   bare app ${bareCost.server} (generator ${bareCost.generator})\n`,
    );
    process.stdout.write(
      `ratio /v1/check ÷ bare = ${(max.requests.average / baseline.requests.average).toFixed(3)}   p99 at half rate (median of ${halves.length} runs) = ${half.p99.toFixed(2)} ms   Redis script calls per check (INFO commandstats; the background sweeper's included) = ${commandsPerCheck.toFixed(3)}\n`,
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
