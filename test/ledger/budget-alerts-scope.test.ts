import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '#kernel';
import { LedgerWriter } from '#ledger';
import { unique } from '../support/polling.js';
import { testEnv } from '../support/test-env.js';
import { openDataSource, settlement } from './ledger.helpers.js';

/**
 * SPEC "Budget alerts" on a scope: a team's or an org's aggregate (its daily_usage row, the sum
 * of its subtree) crossing a threshold of the ancestor's own tier raises the ancestor's alert,
 * exactly once, in the statement of the ledger row that crossed it.
 */
let pools: DataSource[];
let writers: LedgerWriter[];

beforeAll(async () => {
  const { databaseUrl } = testEnv();
  pools = await Promise.all([openDataSource(databaseUrl), openDataSource(databaseUrl)]);
  writers = pools.flatMap((pool) =>
    [0, 1].map(() => new LedgerWriter(pool, { batchWaitMs: 1, maxConcurrentBatches: 2 })),
  );
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.flush()));
  await Promise.all(pools.map((pool) => pool.destroy()));
});

const sql = <T>(text: string, params?: unknown[]): Promise<T[]> => pools[0]!.query(text, params);

async function createTier(thresholds: string | null, dailyLimitUsd: string): Promise<string> {
  const tier = unique('scope_alert_tier');
  await sql(
    `INSERT INTO tiers (name, daily_cost_limit_usd, alert_thresholds) VALUES ($1, $2, $3::int[])`,
    [tier, dailyLimitUsd, thresholds],
  );
  return tier;
}

/** org ← team ← users, as an admin would insert them; the users' tier has no thresholds. */
async function scope(
  users: number,
): Promise<{ org: string; team: string; members: string[]; quiet: string }> {
  const org = unique('org');
  const team = unique('team');
  const members = Array.from({ length: users }, () => unique('member'));
  const quiet = await createTier(null, '1');
  await sql(`INSERT INTO subjects (id, tier) VALUES ($1, $2)`, [
    org,
    await createTier('{50}', '2'),
  ]);
  await sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, $2, $3)`, [
    team,
    await createTier('{50,80,100}', '1'),
    org,
  ]);
  for (const member of members) {
    await sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, $2, $3)`, [member, quiet, team]);
  }
  return { org, team, members, quiet };
}

function alertsOf(subjects: string[]): Promise<Record<string, unknown>[]> {
  return sql(
    `SELECT subject, tier, "window", period, threshold_percent, limit_usd::text AS limit_usd,
            spent_usd::text AS spent_usd
     FROM budget_alerts WHERE subject = ANY($1) ORDER BY subject, threshold_percent`,
    [subjects],
  );
}

describe("budget alerts on ancestors' aggregates", () => {
  it('raises the team and org thresholds once each when concurrent member commits cross them', async () => {
    const { org, team, members, quiet } = await scope(6);
    const [tierOfTeam, tierOfOrg] = await Promise.all(
      [team, org].map(async (id) => {
        const [row] = await sql<{ tier: string }>(`SELECT tier FROM subjects WHERE id = $1`, [id]);
        return row!.tier;
      }),
    );
    const at = Date.now();
    // 120 commits of $0.01 by six members, through four writers on two pools at once: the team
    // ($1) ends at $1.20 past 50, 80 and 100 %; the org ($2) at 60 %, past 50 % only.
    await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        writers[i % writers.length]!.append(
          settlement({
            subject: members[i % members.length]!,
            tier: quiet,
            costMicros: 10_000,
            settledAtMs: at,
            scope: [team, org],
          }),
        ),
      ),
    );
    const alerts = await alertsOf([org, team, ...members]);
    // unique() names: 'org_…' sorts before 'team_…'.
    expect(alerts.map((a) => [a.subject, a.threshold_percent])).toEqual([
      [org, 50],
      [team, 50],
      [team, 80],
      [team, 100],
    ]);
    for (const alert of alerts) {
      const isTeam = alert.subject === team;
      expect(alert).toMatchObject({
        tier: isTeam ? tierOfTeam : tierOfOrg,
        window: 'day',
        period: utcDay(at),
        limit_usd: isTeam ? '1' : '2',
      });
      // The aggregate right after the statement that crossed the threshold.
      const spent = Number(alert.spent_usd);
      expect(spent * 100).toBeGreaterThanOrEqual(
        Number(alert.limit_usd) * Number(alert.threshold_percent),
      );
      expect(spent).toBeLessThanOrEqual(1.2);
    }
    const totals = await sql<{ subject: string; cost: string }>(
      `SELECT subject, cost_usd::text AS cost FROM daily_usage WHERE subject = ANY($1)`,
      [[team, org]],
    );
    expect(totals.map((t) => t.cost)).toEqual(['1.200000', '1.200000']);
  });

  it("takes the alerting statement when only an ancestor's tier alerts", async () => {
    const { org, team, members } = await scope(1);
    const tiers = new Map(
      (
        await sql<{ id: string; tier: string }>(
          `SELECT id, tier FROM subjects WHERE id = ANY($1)`,
          [[org, team, members[0]]],
        )
      ).map((row) => [row.id, row.tier]),
    );
    const alerting = new Set([tiers.get(team), tiers.get(org)]);
    const options = { batchWaitMs: 1, tierMayAlert: (tier: string) => alerting.has(tier) };
    // Told the tiers of the subject alone, a writer would skip the alert work for this batch.
    const blind = new LedgerWriter(pools[0]!, { ...options, tierOf: () => tiers.get(members[0])! });
    const seeing = new LedgerWriter(pools[1]!, { ...options, tierOf: (id) => tiers.get(id)! });
    const charge = (costMicros: number) =>
      settlement({
        subject: members[0]!,
        tier: tiers.get(members[0])!,
        costMicros,
        scope: [team, org],
      });
    await blind.append(charge(600_000));
    expect(await alertsOf([org, team, members[0]!])).toEqual([]);
    await seeing.append(charge(1));
    expect((await alertsOf([org, team])).map((a) => [a.subject, a.threshold_percent])).toEqual([
      [team, 50],
    ]);
    await Promise.all([blind.flush(), seeing.flush()]);
  });
});
