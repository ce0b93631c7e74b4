import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '#ledger';
import { unique } from '../support/app.harness.js';
import { httpClient } from '../support/http.client.js';
import { useAdminApp } from './admin.helpers.js';

/**
 * Spend reports read per-day totals that the ledger keeps beside its rows: they must follow
 * every way a ledger row comes, changes or goes (the service's commits, INSERT, UPDATE and DELETE
 * made with SQL), and the `subject` filter takes the subject's whole subtree. The rows sit in
 * March 2023, a range no other test writes.
 */
const ctx = useAdminApp();

interface Row {
  id: string;
  subject: string;
  model: string;
  caller: string | null;
  day: string;
  micros: bigint;
  prompt: number;
}

const usd = (micros: bigint): string =>
  `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;

/** What a report must answer over `rows`, by key, in key order. */
function expected(rows: Row[], keyOf: (row: Row) => string | null) {
  const groups = new Map<string | null, { micros: bigint; requests: number; prompt: number }>();
  for (const row of rows) {
    const group = groups.get(keyOf(row)) ?? { micros: 0n, requests: 0, prompt: 0 };
    group.micros += row.micros;
    group.requests += row.micros > 0n ? 1 : 0;
    group.prompt += row.prompt;
    groups.set(keyOf(row), group);
  }
  return [...groups.entries()]
    .map(([key, g]) => ({
      key,
      cost_usd: usd(g.micros),
      requests: g.requests,
      prompt_tokens: g.prompt,
    }))
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

async function report(query: string) {
  const reply = await ctx.admin.request(
    'GET',
    `/v1/admin/spend?from=2023-03-01&to=2023-03-31&${query}`,
  );
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return (reply.body.rows as Record<string, unknown>[])
    .map((row) => ({
      key: row.key,
      cost_usd: row.cost_usd,
      requests: row.requests,
      prompt_tokens: row.prompt_tokens,
    }))
    .sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

describe('spend totals kept beside the ledger', () => {
  it('follow rows inserted, updated and deleted with SQL; the subject filter takes a subtree', async () => {
    const team = unique('team');
    const [lead, member, intern, outsider] = ['lead', 'member', 'intern', 'outsider'].map(unique);
    await ctx.t.sql(
      `INSERT INTO subjects (id, tier, parent) VALUES ($1, 'free', NULL), ($2, 'free', $1),
         ($3, 'free', $1), ($4, 'free', $2), ($5, 'free', NULL)`,
      [team, lead, member, intern, outsider],
    );
    const gateway = unique('gw');
    const rows: Row[] = [];
    const subjects = [team, lead!, member!, intern!, outsider!];
    for (let i = 0; i < 60; i += 1) {
      rows.push({
        id: unique('r'),
        subject: subjects[i % 5]!,
        model: ['gpt-4o', 'o3', 'gpt-4o-mini'][i % 3]!,
        caller: i % 4 === 0 ? null : gateway,
        day: `2023-03-${String(1 + (i % 3)).padStart(2, '0')}`,
        micros: i % 7 === 0 ? 0n : BigInt(1_000_003 * i + 7),
        prompt: 100 + i,
      });
    }
    await ctx.t.sql(
      `INSERT INTO usage_ledger (reservation_id, subject, tier, model, caller, prompt_tokens,
         completion_tokens, cached_tokens, cost_usd, status, reserved_at, settled_at)
       SELECT id, subject, 'free', model, caller, prompt, 0, 0, cost, 'committed', at, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::numeric[],
                   $7::timestamptz[]) AS r(id, subject, model, caller, prompt, cost, at)`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.subject),
        rows.map((r) => r.model),
        rows.map((r) => r.caller),
        rows.map((r) => r.prompt),
        rows.map((r) => usd(r.micros)),
        rows.map((r) => `${r.day}T12:00:00Z`),
      ],
    );
    const inTeam = (list: Row[]) => list.filter((r) => r.subject !== outsider);
    const check = async (list: Row[]) => {
      expect(await report(`group_by=subject&subject=${team}`)).toEqual(
        expected(inTeam(list), (r) => r.subject),
      );
      expect(await report(`group_by=model&subject=${team}`)).toEqual(
        expected(inTeam(list), (r) => r.model),
      );
      expect(await report(`group_by=day&subject=${lead}`)).toEqual(
        expected(
          list.filter((r) => r.subject === lead || r.subject === intern),
          (r) => r.day,
        ),
      );
      expect(await report('group_by=caller')).toEqual(expected(list, (r) => r.caller));
      expect(await report('group_by=day')).toEqual(expected(list, (r) => r.day));
    };
    await check(rows);

    // An UPDATE moves a row's money and its day; a DELETE takes the intern's rows away.
    const moved = rows.find((r) => r.subject === member && r.day === '2023-03-01')!;
    await ctx.t.sql(
      `UPDATE usage_ledger SET cost_usd = cost_usd + 2.5, settled_at = '2023-03-20T00:00:00Z'
       WHERE reservation_id = $1`,
      [moved.id],
    );
    moved.micros += 2_500_000n;
    moved.day = '2023-03-20';
    await ctx.t.sql('DELETE FROM usage_ledger WHERE subject = $1', [intern]);
    const left = rows.filter((r) => r.subject !== intern);
    await check(left);
    expect((await report(`group_by=subject&subject=${team}`)).map((r) => r.key)).not.toContain(
      intern,
    );
  });

  it('count what the service commits, under the caller that checked', async () => {
    const caller = unique('gateway');
    const key = `tb_test_${randomBytes(12).toString('hex')}`;
    await ctx.t.sql('INSERT INTO api_clients (name, key_sha256) VALUES ($1, $2)', [
      caller,
      hashApiKey(key),
    ]);
    const gateway = httpClient(ctx.t.url, key);
    const subject = unique('spender');
    const check = await gateway('POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 1000,
      max_tokens: 100,
    });
    expect(check.status).toBe(200);
    const commit = await gateway('POST', '/v1/commit', {
      reservation_id: check.body.reservation_id,
      usage: { prompt_tokens: 1000, completion_tokens: 100 },
    });
    expect(commit.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    for (const groupBy of ['caller', 'subject', 'model']) {
      const reply = await ctx.admin.request(
        'GET',
        `/v1/admin/spend?from=${today}&to=${today}&group_by=${groupBy}&subject=${subject}`,
      );
      expect(reply.body.rows, groupBy).toEqual([
        expect.objectContaining({
          key: { caller, subject, model: 'gpt-4o-mini' }[groupBy],
          cost_usd: commit.body.cost_usd,
          requests: 1,
          prompt_tokens: 1000,
          completion_tokens: 100,
        }),
      ]);
    }
  });
});
