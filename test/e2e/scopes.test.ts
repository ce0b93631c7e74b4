import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { createTier, micros } from '../support/fixtures.js';

/** SPEC §2, §3, §5 scopes over HTTP and SQL: parents, all or nothing, per-level daily rows. */

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

/** Inserts subjects (id, tier, parent) in order, then waits until the service sees the last. */
async function tree(rows: [string, string, string | null][], app = t): Promise<void> {
  for (const [id, tier, parent] of rows) {
    await app.sql('INSERT INTO subjects (id, tier, parent) VALUES ($1, $2, $3)', [
      id,
      tier,
      parent,
    ]);
  }
  const [last, tier] = rows[rows.length - 1]!;
  await eventually(async () => {
    const reply = await app.request('GET', `/v1/subjects/${encodeURIComponent(last)}/usage`);
    return reply.body.tier === tier;
  });
}

const check = (subject: string, prompt = 1000, completion = 1000, app = t) =>
  app.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: prompt,
    max_tokens: completion,
  });

describe('the database keeps scopes acyclic and at most 4 levels deep', () => {
  it('refuses a cycle, a self-parent and a fifth level, in SQL', async () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => unique(`lvl${x}`));
    await t.sql(`INSERT INTO subjects (id, tier) VALUES ($1, 'free')`, [a]);
    await t.sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, 'free', $2)`, [b, a]);
    await t.sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, 'free', $2)`, [c, b]);
    await t.sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, 'free', $2)`, [d, c]);
    await expect(
      t.sql(`INSERT INTO subjects (id, tier, parent) VALUES ($1, 'free', $2)`, [e, d]),
    ).rejects.toThrow(/at most 4 levels/);
    await expect(t.sql(`UPDATE subjects SET parent = $1 WHERE id = $2`, [d, a])).rejects.toThrow(
      /cycle/,
    );
    await expect(t.sql(`UPDATE subjects SET parent = $1 WHERE id = $1`, [a])).rejects.toThrow(
      /cycle/,
    );
    // Moving a subtree under a deeper parent counts the levels below it too.
    await t.sql(`INSERT INTO subjects (id, tier) VALUES ($1, 'free')`, [e]);
    await expect(t.sql(`UPDATE subjects SET parent = $1 WHERE id = $2`, [e, a])).rejects.toThrow(
      /at most 4 levels/,
    );
    await t.sql(`UPDATE subjects SET parent = $1 WHERE id = $2`, [e, b]);
    const rows = await t.sql(`SELECT parent FROM subjects WHERE id = $1`, [b]);
    expect(rows.rows[0]).toEqual({ parent: e });
  });
});

describe('a check judged on every level of its scope', () => {
  it('an org refusal leaves the user and the team untouched and names the org', async () => {
    const limited = await createTier(t.sql, 'lvl', {
      requestsPerMinute: 100,
      tokensPerMinute: 100_000,
      maxConcurrent: 10,
      dailyCostLimitUsd: '1',
    });
    const tiny = await createTier(t.sql, 'orgtiny', { dailyCostLimitUsd: '0.001000' });
    const [org, team, user] = [unique('org'), unique('team'), unique('user')];
    await tree([
      [org, tiny, null],
      [team, limited, org],
      [user, limited, team],
    ]);
    // 1000 × 0.15 + 1000 × 0.60 = 750 µ$: fits everywhere.
    const ok = await check(user);
    expect(ok.status).toBe(200);
    expect(ok.body.scope).toEqual([
      {
        subject: team,
        tier: limited,
        limits: expect.objectContaining({ concurrent: { limit: 10, remaining: 9 } }),
      },
      {
        subject: org,
        tier: tiny,
        limits: { daily_cost: expect.objectContaining({ remaining_usd: '0.000250' }) },
      },
    ]);
    const before = await Promise.all(
      [user, team].map((s) => t.request('GET', `/v1/subjects/${s}/usage`)),
    );

    const no = await check(user);
    expect(no.status).toBe(429);
    expect(no.body).toMatchObject({
      error: 'daily_budget_exceeded',
      dimension: 'daily_cost',
      scope_subject: org,
      limit: '0.001000',
      remaining: '0.000250',
    });
    expect(String(no.body.message)).toMatch(new RegExp(`exceeded for ${org}:`));
    const after = await Promise.all(
      [user, team].map((s) => t.request('GET', `/v1/subjects/${s}/usage`)),
    );
    type Usage = { in_flight: unknown[]; limits: Record<string, Record<string, unknown>> };
    for (const i of [0, 1]) {
      const [was, now] = [before[i]!.body as Usage, after[i]!.body as Usage];
      expect(now.in_flight).toHaveLength(1);
      expect(now.limits.concurrent).toEqual(was.limits.concurrent);
      expect(now.limits.daily_cost!.remaining_usd).toBe(was.limits.daily_cost!.remaining_usd);
      // Buckets only refill between the two reads.
      expect(now.limits.requests!.remaining).toBeGreaterThanOrEqual(
        was.limits.requests!.remaining as number,
      );
      expect(now.limits.tokens!.remaining).toBeGreaterThanOrEqual(
        was.limits.tokens!.remaining as number,
      );
    }
    // A refusal by the subject's own level names the subject.
    const own = await check(user, 1_000_000, 1);
    expect(own.body).toMatchObject({ error: 'exceeds_capacity', scope_subject: user });
  });

  // Both stores: the service settles the scope, whichever store holds the levels.
  it.each([
    ['Redis', false],
    ['the in-process store', true],
  ])(
    "a refund with no usage releases every ancestor's share at once (%s)",
    async (_, inProcess) => {
      const app = inProcess ? await startTestApp({ REDIS_URL: '' }) : t;
      try {
        await refundReleasesScope(app);
      } finally {
        if (inProcess) {
          await app.close();
        }
      }
    },
  );

  it('follows a parent edit within 2 s', async () => {
    const tiny = await createTier(t.sql, 'teamtiny', { dailyCostLimitUsd: '0.000100' });
    const [team, user] = [unique('team'), unique('user')];
    await tree([
      [team, tiny, null],
      [user, 'standard', null],
    ]);
    expect((await check(user)).status).toBe(200);
    await t.sql(`UPDATE subjects SET parent = $1 WHERE id = $2`, [team, user]);
    const started = Date.now();
    await eventually(async () => (await check(user)).body.scope_subject === team);
    expect(Date.now() - started).toBeLessThan(2_500);
  });
});

describe('daily_usage per level', () => {
  it('after random check/commit/refund traffic each level equals its subtree in the ledger', async () => {
    const roomy = await createTier(t.sql, 'roomy', {
      requestsPerMinute: 10_000,
      dailyCostLimitUsd: '100',
      maxConcurrent: 100,
    });
    const org = unique('org');
    const teams = [unique('team'), unique('team')];
    const users = teams.flatMap((team) => [0, 1, 2].map(() => ({ id: unique('user'), team })));
    await tree([
      [org, roomy, null],
      ...teams.map((team): [string, string, string] => [team, roomy, org]),
      // Roomy for the users too: all 60 checks run at once, and this test is about the sums, not
      // the standard tier's 10 concurrent reservations.
      ...users.map((u): [string, string, string] => [u.id, roomy, u.team]),
    ]);
    await eventually(async () => {
      const scope = (await check(users[0]!.id, 1, 1)).body.scope as unknown[] | undefined;
      return scope?.length === 2;
    });
    // A deterministic "random" walk: each check is committed, refunded (whole or partly) or
    // left to the expiry that this test does not wait for.
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed % n;
    };
    await Promise.all(
      Array.from({ length: 60 }, async () => {
        const user = users[next(users.length)]!.id;
        const ok = await check(user, 100 + next(2000), 1 + next(1000));
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        const id = ok.body.reservation_id;
        const usage = { prompt_tokens: next(3000), completion_tokens: next(1500) };
        const action = next(4);
        const reply =
          action === 0
            ? await t.request('POST', '/v1/refund', { reservation_id: id })
            : action === 1
              ? await t.request('POST', '/v1/refund', { reservation_id: id, usage })
              : action === 2
                ? await t.request('POST', '/v1/commit', { reservation_id: id, usage })
                : undefined;
        if (reply) {
          expect(reply.status).toBe(200);
        }
      }),
    );
    const day = new Date().toISOString().slice(0, 10);
    const ledger = async (subjects: string[]): Promise<number> => {
      const { rows } = await t.sql(
        `SELECT (coalesce(sum(cost_usd), 0) * 1000000)::bigint::text AS cost
           FROM usage_ledger WHERE subject = ANY($1)`,
        [subjects],
      );
      return Number((rows[0] as { cost: string }).cost);
    };
    const daily = async (subject: string): Promise<number> => {
      const { rows } = await t.sql(
        `SELECT (cost_usd * 1000000)::bigint::text AS cost FROM daily_usage
          WHERE subject = $1 AND day = $2::date`,
        [subject, day],
      );
      return rows[0] ? Number((rows[0] as { cost: string }).cost) : 0;
    };
    const all = users.map((u) => u.id);
    expect(await ledger(all)).toBeGreaterThan(0);
    expect(await daily(org)).toBe(await ledger(all));
    for (const team of teams) {
      const members = users.filter((u) => u.team === team).map((u) => u.id);
      expect(await daily(team)).toBe(await ledger(members));
    }
    for (const user of all) {
      expect(await daily(user)).toBe(await ledger([user]));
    }
    // The usage endpoint of a team answers its subtree's total.
    const teamUsage = await t.request('GET', `/v1/subjects/${teams[0]}/usage`);
    const { today, month } = teamUsage.body as Record<string, { cost_usd: string }>;
    expect(micros(today!.cost_usd)).toBe(await daily(teams[0]!));
    expect(micros(month!.cost_usd)).toBeGreaterThanOrEqual(await daily(teams[0]!));
  });
});

/** A check on a 3-level scope refunded whole, then refunded at zero usage: no level holds anything. */
async function refundReleasesScope(app: TestApp): Promise<void> {
  const capped = await createTier(app.sql, 'teamcap', {
    maxConcurrent: 5,
    dailyCostLimitUsd: '0.010000',
  });
  const [org, team, user] = [unique('org'), unique('team'), unique('user')];
  await tree(
    [
      [org, capped, null],
      [team, capped, org],
      [user, 'standard', team],
    ],
    app,
  );
  for (const body of [{}, { usage: { prompt_tokens: 0, completion_tokens: 0 } }]) {
    const ok = await check(user, 1, 1, app);
    expect(ok.status).toBe(200);
    const refunded = await app.request('POST', '/v1/refund', {
      reservation_id: ok.body.reservation_id,
      ...body,
    });
    expect(refunded.status).toBe(200);
    for (const level of [team, org]) {
      const usage = await app.request('GET', `/v1/subjects/${level}/usage`);
      const limits = usage.body.limits as Record<string, Record<string, unknown>>;
      expect(usage.body.in_flight, `${level} after ${JSON.stringify(body)}`).toEqual([]);
      expect(limits.concurrent!.remaining).toBe(5);
      expect(limits.daily_cost!.remaining_usd).toBe('0.010000');
    }
  }
}
