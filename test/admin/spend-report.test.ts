import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpendRow } from '../../apps/api/src/admin/spend.service.js';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { type AdminKey, adminKey } from './admin.helpers.js';

/**
 * Spend reports against 10,000 random settlements: every grouping equals the BigInt sums this
 * test computes, to the micro-dollar, in JSON and in CSV. The rows sit in February 2024 (leap
 * day included), a range no other test writes.
 */
let t: TestApp;
let admin: AdminKey;

interface Row {
  subject: string;
  tier: string;
  model: string;
  caller: string | null;
  day: string;
  micros: bigint;
  prompt: number;
  completion: number;
  cached: number;
}

const rows: Row[] = [];
const FROM = '2024-02-01';
const TO = '2024-02-29';

/** A seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const usd = (micros: bigint): string =>
  `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;

beforeAll(async () => {
  t = await startTestApp();
  admin = await adminKey(t);
  const random = rng(20240229);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const prefix = unique('spend');
  const subjects = Array.from({ length: 40 }, (_, i) => `${prefix}-user-${i}`);
  const models = ['gpt-4o', 'gpt-4o-mini', 'o3', 'claude-sonnet-4', 'gpt-5-nano'];
  const tiers = ['free', 'standard', 'enterprise', `${prefix}-tier`];
  const callers = [`${prefix}-gw-eu`, `${prefix}-gw-us`, `${prefix}-batch`, null];
  for (let i = 0; i < 10_000; i += 1) {
    const zero = random() < 0.1; // refunded without usage: no cost, not a request
    const prompt = Math.floor(random() * 20_000);
    rows.push({
      subject: pick(subjects),
      tier: pick(tiers),
      model: pick(models),
      caller: pick(callers),
      day: `2024-02-${String(1 + Math.floor(random() * 29)).padStart(2, '0')}`,
      micros: zero ? 0n : BigInt(Math.floor(random() * 3_000_000_000)),
      prompt,
      completion: Math.floor(random() * 4_000),
      cached: Math.floor(random() * prompt),
    });
  }
  await t.sql(
    `INSERT INTO usage_ledger (reservation_id, subject, tier, model, caller, prompt_tokens,
       completion_tokens, cached_tokens, cost_usd, status, reserved_at, settled_at)
     SELECT $1 || '-' || n, subject, tier, model, caller, prompt, completion, cached, cost,
            CASE WHEN cost = 0 THEN 'refunded' ELSE 'committed' END,
            at - interval '1 second', at
     FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[],
                 $9::numeric[], $10::timestamptz[])
       WITH ORDINALITY AS r(subject, tier, model, caller, prompt, completion, cached, cost, at, n)`,
    [
      prefix,
      rows.map((r) => r.subject),
      rows.map((r) => r.tier),
      rows.map((r) => r.model),
      rows.map((r) => r.caller),
      rows.map((r) => r.prompt),
      rows.map((r) => r.completion),
      rows.map((r) => r.cached),
      rows.map((r) => usd(r.micros)),
      // Spread over the day, the last one a microsecond before midnight.
      rows.map((r, i) =>
        i === 0
          ? `${r.day}T23:59:59.999999Z`
          : `${r.day}T${String(i % 24).padStart(2, '0')}:17:00Z`,
      ),
    ],
  );
}, 120_000);

afterAll(async () => {
  await t?.close();
});

function expected(keyOf: (row: Row) => string | null, only: Row[] = rows): SpendRow[] {
  const groups = new Map<
    string | null,
    { micros: bigint; r: number; p: number; c: number; k: number }
  >();
  for (const row of only) {
    const key = keyOf(row);
    const group = groups.get(key) ?? { micros: 0n, r: 0, p: 0, c: 0, k: 0 };
    group.micros += row.micros;
    group.r += row.micros > 0n ? 1 : 0;
    group.p += row.prompt;
    group.c += row.completion;
    group.k += row.cached;
    groups.set(key, group);
  }
  return [...groups.entries()]
    .sort(([, a], [, b]) => (a.micros === b.micros ? 0 : a.micros > b.micros ? -1 : 1))
    .map(([key, g]) => ({
      key,
      cost_usd: usd(g.micros),
      requests: g.r,
      prompt_tokens: g.p,
      completion_tokens: g.c,
      cached_tokens: g.k,
    }));
}

const byKey = (list: SpendRow[]) =>
  [...list].sort((a, b) => String(a.key).localeCompare(String(b.key)));

const GROUPINGS: [string, (row: Row) => string | null][] = [
  ['subject', (r) => r.subject],
  ['model', (r) => r.model],
  ['tier', (r) => r.tier],
  ['caller', (r) => r.caller],
  ['day', (r) => r.day],
];

async function csv(path: string): Promise<{ type: string | null; text: string }> {
  const response = await fetch(`${t.url}${path}`, {
    headers: { authorization: `Bearer ${admin.key}`, accept: 'text/csv' },
  });
  expect(response.status).toBe(200);
  return { type: response.headers.get('content-type'), text: await response.text() };
}

/** RFC 4180, enough for these files: quoted fields with doubled quotes. */
function parseCsv(text: string): string[][] {
  const lines: string[][] = [];
  for (const line of text.split('\r\n').filter(Boolean)) {
    const cells: string[] = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let cell = '';
        i += 1;
        while (i < line.length) {
          if (line[i] === '"' && line[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else if (line[i] === '"') {
            i += 1;
            break;
          } else {
            cell += line[i++];
          }
        }
        cells.push(cell);
        i += 1;
      } else {
        const end = line.indexOf(',', i) === -1 ? line.length : line.indexOf(',', i);
        cells.push(line.slice(i, end));
        i = end + 1;
      }
    }
    lines.push(cells);
  }
  return lines;
}

describe('spend reports over 10,000 random settlements', () => {
  for (const [groupBy, keyOf] of GROUPINGS) {
    it(`group_by=${groupBy} equals the BigInt sums, in JSON and in CSV`, async () => {
      const want = expected(keyOf);
      const reply = await admin.request(
        'GET',
        `/v1/admin/spend?from=${FROM}&to=${TO}&group_by=${groupBy}&limit=10000`,
      );
      expect(reply.status).toBe(200);
      const got = reply.body.rows as SpendRow[];
      // Same groups and numbers; sorted by cost (ties in any order).
      expect(byKey(got)).toEqual(byKey(want));
      const costs = got.map((row) => BigInt(row.cost_usd.replace('.', '')));
      expect(costs.every((cost, i) => i === 0 || cost <= costs[i - 1]!)).toBe(true);
      const total = expected(() => 'all')[0]!;
      expect(reply.body.total).toEqual({ ...total, key: undefined });

      const { type, text } = await csv(
        `/v1/admin/spend?from=${FROM}&to=${TO}&group_by=${groupBy}&limit=10000`,
      );
      expect(type).toMatch(/^text\/csv/);
      const [header, ...lines] = parseCsv(text);
      expect(header).toEqual([
        'key',
        'cost_usd',
        'requests',
        'prompt_tokens',
        'completion_tokens',
        'cached_tokens',
      ]);
      const parsed = lines.map(([key, cost, requests, prompt, completion, cached]) => ({
        key: key === '' ? null : key!,
        cost_usd: cost!,
        requests: Number(requests),
        prompt_tokens: Number(prompt),
        completion_tokens: Number(completion),
        cached_tokens: Number(cached),
      }));
      expect(byKey(parsed)).toEqual(byKey(want));
    });
  }

  it('filters by subject and by date range, and limits to the top rows', async () => {
    const subject = rows[0]!.subject;
    const reply = await admin.request(
      'GET',
      `/v1/admin/spend?from=2024-02-10&to=2024-02-12&group_by=model&subject=${subject}`,
    );
    const only = rows.filter(
      (r) => r.subject === subject && r.day >= '2024-02-10' && r.day <= '2024-02-12',
    );
    expect(byKey(reply.body.rows as SpendRow[])).toEqual(byKey(expected((r) => r.model, only)));

    const top = await admin.request('GET', `/v1/admin/spend?from=${FROM}&to=${TO}&limit=3`);
    expect((top.body.rows as SpendRow[]).map((row) => row.cost_usd)).toEqual(
      expected((r) => r.subject)
        .slice(0, 3)
        .map((row) => row.cost_usd),
    );
    // The last microsecond of a day belongs to that day.
    const lastDay = rows[0]!.day;
    const day = await admin.request(
      'GET',
      `/v1/admin/spend?from=${lastDay}&to=${lastDay}&group_by=day`,
    );
    expect((day.body.rows as SpendRow[]).map((row) => row.key)).toEqual([lastDay]);
  });

  it('answers 400 for bad dates, groupings and limits', async () => {
    for (const query of [
      'from=2024-02-30',
      'from=2024-13-01',
      'from=yesterday',
      'from=2024-03-01&to=2024-02-01',
      'group_by=team',
      'limit=0',
      'limit=10001',
      'format=xml',
    ]) {
      const reply = await admin.request('GET', `/v1/admin/spend?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.error, query).toBe('invalid_request');
    }
  });
});
