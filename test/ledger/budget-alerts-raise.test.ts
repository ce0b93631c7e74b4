import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '#kernel';
import { CatalogueService, LedgerWriter } from '#ledger';
import { testEnv } from '../support/test-env.js';
import { openDataSource, settlement } from './ledger.helpers.js';
import { unique } from '../support/polling.js';

/**
 * Raising budget alerts in the ledger statement: several writers on their own connection pools
 * stand for several service instances committing at once.
 */
let pools: DataSource[];
let writers: LedgerWriter[];
const raisedCounts: number[] = [];

beforeAll(async () => {
  const { databaseUrl } = testEnv();
  pools = await Promise.all([openDataSource(databaseUrl), openDataSource(databaseUrl)]);
  writers = pools.flatMap((pool) =>
    [0, 1].map(() => new LedgerWriter(pool, { batchWaitMs: 1, maxConcurrentBatches: 2 })),
  );
  for (const writer of writers) {
    writer.onAlertsRaised((count) => raisedCounts.push(count));
  }
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.flush()));
  await Promise.all(pools.map((pool) => pool.destroy()));
});

const sql = <T>(text: string, params?: unknown[]): Promise<T[]> => pools[0]!.query(text, params);

async function createTier(
  thresholds: string | null,
  dailyLimitUsd: string | null = '1',
  monthlyLimitUsd: string | null = null,
): Promise<string> {
  const tier = unique('alert_tier');
  await sql(
    `INSERT INTO tiers (name, daily_cost_limit_usd, monthly_cost_limit_usd, alert_thresholds)
     VALUES ($1, $2, $3, $4::int[])`,
    [tier, dailyLimitUsd, monthlyLimitUsd, thresholds],
  );
  return tier;
}

interface AlertRow {
  window: string;
  period: string;
  threshold_percent: number;
  tier: string;
  limit_usd: string;
  spent_usd: string;
  delivered_at: Date | null;
  attempts: number;
}

function alertsOf(subject: string): Promise<AlertRow[]> {
  return sql<AlertRow>(
    `SELECT "window", period, threshold_percent, tier, limit_usd::text AS limit_usd,
            spent_usd::text AS spent_usd, delivered_at, attempts
     FROM budget_alerts WHERE subject = $1 ORDER BY threshold_percent, "window", period`,
    [subject],
  );
}

describe('budget alerts raised by the ledger', () => {
  it('raises exactly one row per threshold when concurrent commits from four writers cross 50/80/100', async () => {
    const tier = await createTier('{50,80,100}');
    const subject = unique('subj');
    const at = Date.now();
    // 120 commits of $0.01 against a $1 limit, spread over four writers (two pools) at once.
    const commits = Array.from({ length: 120 }, (_, i) =>
      writers[i % writers.length]!.append(
        settlement({ subject, tier, costMicros: 10_000, settledAtMs: at }),
      ),
    );
    await Promise.all(commits);

    const alerts = await alertsOf(subject);
    expect(alerts.map((a) => a.threshold_percent)).toEqual([50, 80, 100]);
    for (const alert of alerts) {
      expect(alert).toMatchObject({
        window: 'day',
        period: utcDay(at),
        tier,
        limit_usd: '1',
      });
      // The day's total right after the statement that reached the threshold.
      const spent = Number(alert.spent_usd);
      expect(spent).toBeGreaterThanOrEqual(alert.threshold_percent / 100);
      expect(spent).toBeLessThanOrEqual(1.2);
    }
    const [{ total }] = await sql<{ total: string }>(
      `SELECT cost_usd::text AS total FROM daily_usage WHERE subject = $1`,
      [subject],
    );
    expect(total).toBe('1.200000');
  });

  it('records the exact total at the crossing: one commit over two thresholds raises both', async () => {
    const tier = await createTier('{50,80}', '10');
    const subject = unique('subj');
    await writers[0]!.append(settlement({ subject, tier, costMicros: 4_000_000 }));
    expect(await alertsOf(subject)).toEqual([]);
    await writers[1]!.append(settlement({ subject, tier, costMicros: 4_500_000 }));
    const alerts = await alertsOf(subject);
    expect(alerts.map((a) => [a.threshold_percent, a.spent_usd, a.limit_usd])).toEqual([
      [50, '8.500000', '10'],
      [80, '8.500000', '10'],
    ]);
    // Further charges and a repeated settlement raise nothing new.
    const again = settlement({ subject, tier, costMicros: 1_000_000 });
    await writers[2]!.append(again);
    await writers[3]!.append({ ...again });
    expect(await alertsOf(subject)).toHaveLength(2);
  });

  it('raises nothing for a tier without thresholds, for uncharged settlements, or under the first threshold', async () => {
    const quiet = await createTier(null, '0.01');
    const subject = unique('subj');
    await writers[0]!.append(settlement({ subject, tier: quiet, costMicros: 50_000 }));
    expect(await alertsOf(subject)).toEqual([]);

    const loud = await createTier('{50}', '1');
    const other = unique('subj');
    await writers[0]!.append(
      settlement({ subject: other, tier: loud, status: 'refunded', costMicros: 0 }),
    );
    await writers[0]!.append(settlement({ subject: other, tier: loud, costMicros: 499_999 }));
    expect(await alertsOf(other)).toEqual([]);
    await writers[0]!.append(settlement({ subject: other, tier: loud, costMicros: 1 }));
    expect((await alertsOf(other)).map((a) => a.spent_usd)).toEqual(['0.500000']);
  });

  it('alerts at the next charge when thresholds are set below what was already spent', async () => {
    const tier = await createTier(null, '1');
    const subject = unique('subj');
    await writers[0]!.append(settlement({ subject, tier, costMicros: 900_000 }));
    await sql(`UPDATE tiers SET alert_thresholds = '{50,80,100}' WHERE name = $1`, [tier]);
    await writers[0]!.append(settlement({ subject, tier, costMicros: 1 }));
    expect((await alertsOf(subject)).map((a) => a.threshold_percent)).toEqual([50, 80]);
  });

  it('keeps one day apart from the next: a new UTC day raises its own alerts', async () => {
    const tier = await createTier('{100}', '0.5');
    const subject = unique('subj');
    const midnight = Date.UTC(2026, 10, 23);
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 600_000, settledAtMs: midnight - 1 }),
    );
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 600_000, settledAtMs: midnight }),
    );
    expect((await alertsOf(subject)).map((a) => a.period).sort()).toEqual([
      '2026-11-22',
      '2026-11-23',
    ]);
  });

  it('skips the alert work for a batch whose tiers the writer is told cannot alert', async () => {
    const tier = await createTier('{50}', '1');
    const subject = unique('subj');
    const blind = new LedgerWriter(pools[0]!, { batchWaitMs: 1, tierMayAlert: () => false });
    await blind.append(settlement({ subject, tier, costMicros: 600_000 }));
    expect(await alertsOf(subject)).toEqual([]);
    // The next charge through a writer that knows the tier alerts raises what was reached.
    await writers[0]!.append(settlement({ subject, tier, costMicros: 1 }));
    expect((await alertsOf(subject)).map((a) => a.spent_usd)).toEqual(['0.600001']);
  });

  it("raises month alerts on the month's total across its days, once per calendar month", async () => {
    const tier = await createTier('{50}', null, '10');
    const subject = unique('subj');
    const at = (month: number, day: number) => Date.UTC(2026, month, day, 12);
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 3_000_000, settledAtMs: at(9, 5) }),
    );
    expect(await alertsOf(subject)).toEqual([]);
    await writers[1]!.append(
      settlement({ subject, tier, costMicros: 2_500_000, settledAtMs: at(9, 20) }),
    );
    await writers[2]!.append(
      settlement({ subject, tier, costMicros: 2_500_000, settledAtMs: at(9, 21) }),
    );
    // November starts from nothing: $4 is under half of $10, $6 is over.
    await writers[3]!.append(
      settlement({ subject, tier, costMicros: 4_000_000, settledAtMs: at(10, 1) }),
    );
    await writers[3]!.append(
      settlement({ subject, tier, costMicros: 2_000_000, settledAtMs: at(10, 2) }),
    );
    expect(
      (await alertsOf(subject)).map((a) => [a.window, a.period, a.spent_usd, a.limit_usd]),
    ).toEqual([
      ['month', '2026-10', '5.500000', '10'],
      ['month', '2026-11', '6.000000', '10'],
    ]);
  });

  it('raises the day and the month alert together when one commit reaches both', async () => {
    const tier = await createTier('{80}', '2', '4');
    const subject = unique('subj');
    const day = (d: number) => Date.UTC(2026, 6, d, 9);
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 1_500_000, settledAtMs: day(1) }),
    );
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 1_500_000, settledAtMs: day(2) }),
    );
    await writers[0]!.append(
      settlement({ subject, tier, costMicros: 200_000, settledAtMs: day(2) }),
    );
    expect((await alertsOf(subject)).map((a) => [a.window, a.period, a.spent_usd])).toEqual([
      ['day', '2026-07-02', '1.700000'],
      ['month', '2026-07', '3.200000'],
    ]);
  });

  it('tells its listeners how many alerts a batch raised', () => {
    // Every test above raised at least one; the counts are per statement.
    expect(raisedCounts.reduce((sum, n) => sum + n, 0)).toBe(3 + 2 + 1 + 2 + 2 + 1 + 2 + 2);
  });

  it('refuses thresholds outside 1..100, empty lists and NULL elements', async () => {
    const tier = await createTier(null);
    for (const bad of ['{0}', '{101}', '{}', '{50,NULL}', '{{50},{80}}']) {
      await expect(
        sql(`UPDATE tiers SET alert_thresholds = $2::int[] WHERE name = $1`, [tier, bad]),
        bad,
      ).rejects.toThrow(/ck_tiers_alert_thresholds/);
    }
    await sql(`UPDATE tiers SET alert_thresholds = '{1,100}' WHERE name = $1`, [tier]);
  });

  it("carries each tier's thresholds in the catalogue, sorted and without repeats", async () => {
    const tier = await createTier('{100,50,80,50}');
    const catalogue = new CatalogueService(pools[0]!, {
      defaultTier: 'free',
      reloadSeconds: 3600,
      listen: { url: testEnv().databaseUrl, applicationName: unique('alerts_catalogue') },
    });
    await catalogue.onModuleInit();
    try {
      expect(catalogue.tier(tier)?.alertThresholds).toEqual([50, 80, 100]);
      expect(catalogue.tier('free')?.alertThresholds).toBeNull();
    } finally {
      await catalogue.onModuleDestroy();
    }
  });
});
