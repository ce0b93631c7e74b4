import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Settlement, SettlementStatus } from '#budget';
import { CatalogueService } from '#ledger';
import { DailyUsageRepository } from '#ledger';
import { type BatchEvent, LedgerWriter } from '#ledger';
import { testEnv } from '../support/test-env.js';
import { openDataSource } from './ledger.helpers.js';
import { unique } from '../support/polling.js';

let dataSource: DataSource;
let catalogue: CatalogueService;

beforeAll(async () => {
  dataSource = await openDataSource(testEnv().databaseUrl);
  catalogue = new CatalogueService(dataSource, { defaultTier: 'free', reloadSeconds: 3600 });
  await catalogue.onModuleInit();
});

afterAll(async () => {
  await catalogue.onModuleDestroy();
  await dataSource.destroy();
});

/** SPEC §3: prompt × input price + completion × output price, summed, then rounded up. */
function costMicros(prompt: number, completion: number, model: string): bigint {
  const { pricing } = catalogue.requireModel(model);
  const picos =
    BigInt(prompt) * BigInt(pricing.inputPicosPerToken) +
    BigInt(completion) * BigInt(pricing.outputPicosPerToken);
  return (picos + 999_999n) / 1_000_000n;
}

function usd(micros: bigint): string {
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

interface Totals {
  cost: bigint;
  requests: number;
  prompt: bigint;
  completion: bigint;
}

it('keeps the ledger and every daily total exact to the micro-dollar over 10,000 settlements', async () => {
  // A seeded PRNG: a failure can be replayed.
  let seed = 20261122;
  const random = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((seed / 2_147_483_648) * n); // high bits: an LCG's low bits cycle fast
  };
  const subjects = Array.from({ length: 150 }, () => unique('money'));
  const models = ['gpt-5', 'gpt-4o', 'gpt-4o-mini', 'o1', 'gpt-4', 'claude-sonnet-4', 'gpt-5-nano'];
  const dayStart = Date.UTC(2026, 10, 21);
  const expected = new Map<string, Totals>();
  const settlements: Settlement[] = [];
  const kinds = [0, 0, 0, 0, 0];
  let charged = 0;
  let total = 0n;

  for (let i = 0; i < 10_000; i++) {
    const subject = subjects[random(subjects.length)]!;
    const model = models[random(models.length)]!;
    // Three UTC days, with a cluster of settlements in the last second before each midnight.
    const settledAtMs =
      dayStart +
      random(3) * 86_400_000 +
      (random(4) === 0 ? 86_399_000 + random(1000) : random(86_400_000));
    let prompt = 1 + random(200_000);
    let completion = random(16_000);
    const kind = random(5);
    kinds[kind]!++;
    const status: SettlementStatus = ['committed', 'refunded', 'refunded', 'expired', 'expired'][
      kind
    ] as SettlementStatus;
    let cost: bigint;
    if (kind === 1) {
      // Refunded without usage: everything released.
      prompt = 0;
      completion = 0;
      cost = 0n;
    } else if (kind === 4) {
      // Expired and released (policy `release`): estimate on the row, nothing charged.
      cost = 0n;
    } else {
      cost = costMicros(prompt, completion, model);
    }
    settlements.push({
      reservationId: unique('money'),
      subject,
      tier: 'standard',
      model,
      promptTokens: prompt,
      completionTokens: completion,
      costMicros: Number(cost),
      status,
      reservedAtMs: settledAtMs - random(600_000),
      settledAtMs,
    });
    total += cost;
    if (cost > 0n) {
      charged++;
      const key = `${subject}|${new Date(settledAtMs).toISOString().slice(0, 10)}`;
      const totals = expected.get(key) ?? { cost: 0n, requests: 0, prompt: 0n, completion: 0n };
      totals.cost += cost;
      totals.requests++;
      totals.prompt += BigInt(prompt);
      totals.completion += BigInt(completion);
      expected.set(key, totals);
    }
  }

  // Every kind (committed, refunded ±usage, expired charged/released) is well represented.
  expect(Math.min(...kinds)).toBeGreaterThan(1_500);
  expect(expected.size).toBeGreaterThan(400);

  const writer = new LedgerWriter(dataSource, { batchWaitMs: 2 });
  const sizes: BatchEvent[] = [];
  writer.onBatch((event) => sizes.push(event));
  await Promise.all(settlements.map((s) => writer.append(s)));
  expect(sizes.reduce((sum, event) => sum + event.size, 0)).toBe(10_000);
  expect(sizes.length).toBeLessThan(100); // grouped, not one statement each

  const [ledger] = await dataSource.query(
    `SELECT count(*)::int AS rows, sum(cost_usd)::text AS cost,
            count(*) FILTER (WHERE cost_usd > 0)::int AS charged
     FROM usage_ledger WHERE subject = ANY($1)`,
    [subjects],
  );
  expect(ledger).toEqual({ rows: 10_000, cost: usd(total), charged });

  const rows: {
    subject: string;
    day: string;
    cost: string;
    requests: number;
    prompt: string;
    completion: string;
  }[] = await dataSource.query(
    `SELECT subject, to_char(day, 'YYYY-MM-DD') AS day, cost_usd::text AS cost, requests,
              prompt_tokens::text AS prompt, completion_tokens::text AS completion
       FROM daily_usage WHERE subject = ANY($1)`,
    [subjects],
  );
  expect(rows).toHaveLength(expected.size);
  for (const row of rows) {
    const want = expected.get(`${row.subject}|${row.day}`);
    expect(want, `${row.subject} ${row.day}`).toBeDefined();
    expect(row).toEqual({
      subject: row.subject,
      day: row.day,
      cost: usd(want!.cost),
      requests: want!.requests,
      prompt: want!.prompt.toString(),
      completion: want!.completion.toString(),
    });
  }
  expect(rows.reduce((sum, row) => sum + row.requests, 0)).toBe(charged);

  // And the reader gives the same numbers in micro-dollars.
  const daily = new DailyUsageRepository(dataSource);
  const [someKey, some] = [...expected.entries()][0]!;
  const [subject, day] = someKey.split('|') as [string, string];
  expect(await daily.today(subject, day)).toEqual({
    costMicros: Number(some.cost),
    requests: some.requests,
    promptTokens: Number(some.prompt),
    completionTokens: Number(some.completion),
  });
});
