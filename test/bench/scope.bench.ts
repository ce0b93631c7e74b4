import { randomBytes } from 'node:crypto';
import {
  DailyCostSource,
  type Limits,
  RedisBudgetStore,
  type ReserveRequest,
  type ScopeLevel,
  createRedisClient,
  whenReady,
} from '#budget';
import { unlinkUnder } from '../support/redis-keys.js';

/**
 * npm run bench:scope (also run by bench:check) — what a scope costs a check, at the store:
 * RedisBudgetStore.reserve() for a subject with no parent beside one with a 3-level scope
 * (user → team → org, every level limited), on the same Redis, in the same run, alternating.
 * Printed: checks/s and the median and p99 latency, sequential (one at a time: the round trips a
 * check waits for) and with CONCURRENCY in flight (the Redis work a check costs), and the ratio.
 * Reservations are released after each round, so no limit ever refuses.
 */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHECKS = Number(process.env.BENCH_SCOPE_CHECKS ?? 3_000);
const CONCURRENCY = Number(process.env.BENCH_SCOPE_CONCURRENCY ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SUBJECTS = 200;

class NoLedger extends DailyCostSource {
  committedCostMicros(): Promise<number> {
    return Promise.resolve(0);
  }
  committedMonthCostMicros(): Promise<number> {
    return Promise.resolve(0);
  }
}

const ROOMY: Limits = {
  requests: { capacity: 1_000_000, perMinute: 1_000_000 },
  tokens: { capacity: 1e12, perMinute: 1e12 },
  concurrent: 1_000_000,
  dailyCostMicros: 1e15,
  monthlyCostMicros: 1e15,
  modelRequests: null,
  modelTokens: null,
};

function request(n: number, scope?: ScopeLevel[]): ReserveRequest {
  return {
    subject: `bench_scope_user_${n % SUBJECTS}`,
    tier: 'bench',
    model: 'gpt-4o-mini',
    limits: ROOMY,
    pricing: { inputPicosPerToken: 150_000, outputPicosPerToken: 600_000 },
    promptTokens: 200 + (n % 50),
    completionTokens: 100,
    ttlSeconds: 600,
    scope,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  perSecond: number;
  p50: number;
  p99: number;
}

async function run(
  store: RedisBudgetStore,
  concurrency: number,
  scope: ScopeLevel[] | undefined,
): Promise<Run> {
  const latencies: number[] = [];
  const ids: { id: string; ancestors: string[] }[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < CHECKS) {
        const n = next++;
        const t0 = performance.now();
        const result = await store.reserve(request(n, scope));
        latencies.push(performance.now() - t0);
        if (!result.allowed) {
          throw new Error(`bench check refused: ${result.dimension}`);
        }
        ids.push({
          id: result.reservation.reservationId,
          ancestors: scope?.map((level) => level.subject) ?? [],
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Released outside the measured window, so the next round starts from the same state.
  for (let i = 0; i < ids.length; i += 64) {
    await Promise.all(
      ids.slice(i, i + 64).map(({ id, ancestors }) => store.refund(id, null, ancestors)),
    );
  }
  latencies.sort((a, b) => a - b);
  return {
    perSecond: CHECKS / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function median(runs: Run[], key: keyof Run): number {
  const values = runs.map((r) => r[key]).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

async function main(): Promise<void> {
  const client = createRedisClient(REDIS_URL, { commandTimeoutMs: 10_000 });
  await whenReady(client, 10_000);
  const prefix = `tb_bench_scope_${randomBytes(4).toString('hex')}:`;
  const store = new RedisBudgetStore(client, prefix, new NoLedger());
  const scope: ScopeLevel[] = [
    { subject: 'bench_scope_team', tier: 'team', limits: ROOMY },
    { subject: 'bench_scope_org', tier: 'org', limits: ROOMY },
  ];
  console.log(
    `bench:scope — RedisBudgetStore.reserve() on ${REDIS_URL}, ${CHECKS} checks per run, ` +
      `${ROUNDS} alternating rounds, medians`,
  );
  for (const concurrency of [1, CONCURRENCY]) {
    const flat: Run[] = [];
    const scoped: Run[] = [];
    // Warm-up: scripts loaded, day and month counters seeded.
    await run(store, concurrency, undefined);
    await run(store, concurrency, scope);
    for (let round = 0; round < ROUNDS; round++) {
      flat.push(await run(store, concurrency, undefined));
      scoped.push(await run(store, concurrency, scope));
    }
    const line = (label: string, runs: Run[]) =>
      `  ${label.padEnd(30)} ${median(runs, 'perSecond').toFixed(0).padStart(7)} checks/s` +
      `   p50 ${median(runs, 'p50').toFixed(3)} ms   p99 ${median(runs, 'p99').toFixed(3)} ms`;
    console.log(`${concurrency === 1 ? 'sequential' : `${concurrency} in flight`}:`);
    console.log(line('no parent (1 level)', flat));
    console.log(line('3-level scope (user/team/org)', scoped));
    console.log(
      `  ratio 3-level / no parent: throughput ×${(median(scoped, 'perSecond') / median(flat, 'perSecond')).toFixed(2)}, ` +
        `p50 ×${(median(scoped, 'p50') / median(flat, 'p50')).toFixed(2)}`,
    );
  }
  // Leaves nothing behind: the bench's keys are deleted.
  await unlinkUnder(client, prefix);
  await client.quit();
}

await main();
