import { InvalidRequestError, utcDay } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SpendReport, SpendRow } from '#client';
import type { SpendGroup, SpendQuery } from './spend.dto.js';

// The answer's shape is the one the client library types (GET /v1/admin/spend): defined once.
export type { SpendReport, SpendRow } from '#client';

/** The key column of each group_by in the sources below; `day` is the settlement's UTC day. */
const KEYS: Record<SpendGroup, string> = {
  subject: 'subject',
  model: 'model',
  tier: 'tier',
  caller: `nullif(caller, '')`,
  day: `to_char(day, 'YYYY-MM-DD')`,
};

/** The subject filter's subtree: the subject and its descendants (a scope is ≤ 4 levels). */
const SUBTREE = `WITH RECURSIVE tree(id) AS (
  SELECT $3::text WHERE $3::text IS NOT NULL
  UNION
  SELECT s.id FROM subjects s JOIN tree ON s.parent = tree.id
)`;

/**
 * Where each report reads, per UTC day: the per-day totals that the ledger's triggers keep
 * (migration SpendRollups), or — for a subtree split by model, tier or caller — the subtree's
 * own ledger rows (ix_usage_ledger_subject_settled_at). Every source has the same columns.
 */
function source(groupBy: SpendGroup, filtered: boolean): string {
  if (groupBy === 'subject' || (groupBy === 'day' && filtered)) {
    return `spend_daily_subjects
            WHERE day BETWEEN $1::date AND $2::date
              AND ($3::text IS NULL OR subject IN (SELECT id FROM tree))`;
  }
  if (!filtered) {
    return `spend_daily_models WHERE day BETWEEN $1::date AND $2::date`;
  }
  return `(SELECT model, tier, coalesce(caller, '') AS caller, cost_usd,
                  (cost_usd > 0)::int AS requests, prompt_tokens, completion_tokens, cached_tokens
           FROM usage_ledger
           WHERE subject IN (SELECT id FROM tree)
             AND settled_at >= $1::date::timestamp AT TIME ZONE 'UTC'
             AND settled_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC') AS ledger`;
}

/**
 * Spend from the ledger, summed in SQL on numeric (exact to the micro-dollar). `requests` counts
 * the charged rows (cost > 0), as daily_usage does. Reports cover whole UTC days, so they read
 * per-day totals rather than every ledger row: a month of a million rows is a few thousand.
 * The `subject` filter takes the subject's whole subtree (its members, theirs, ...).
 */
@Injectable()
export class SpendService {
  constructor(private readonly db: DataSource) {}

  async report(query: SpendQuery): Promise<SpendReport> {
    const today = utcDay(Date.now());
    const to = query.to ?? today;
    const from = query.from ?? `${to.slice(0, 7)}-01`;
    for (const [name, value] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (
        Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
        utcDay(Date.parse(`${value}T00:00:00Z`)) !== value
      ) {
        throw new InvalidRequestError(`${name} is not a real date: ${value}.`);
      }
    }
    if (from > to) {
      throw new InvalidRequestError(`from (${from}) is after to (${to}).`);
    }
    const groupBy = query.group_by ?? 'subject';
    const filtered = query.subject !== undefined;
    const rows: Record<string, string | number | null>[] = await this.db.query(
      `${SUBTREE}
       SELECT ${KEYS[groupBy]} AS key,
              round(sum(cost_usd), 6)::text AS cost_usd,
              sum(requests) AS requests,
              sum(prompt_tokens) AS prompt_tokens,
              sum(completion_tokens) AS completion_tokens,
              sum(cached_tokens) AS cached_tokens,
              round(sum(sum(cost_usd)) OVER (), 6)::text AS total_cost_usd,
              sum(sum(requests)) OVER () AS total_requests,
              sum(sum(prompt_tokens)) OVER () AS total_prompt_tokens,
              sum(sum(completion_tokens)) OVER () AS total_completion_tokens,
              sum(sum(cached_tokens)) OVER () AS total_cached_tokens
       FROM ${source(groupBy, filtered)}
       GROUP BY 1
       ORDER BY sum(cost_usd) DESC, 1
       LIMIT $4`,
      [from, to, query.subject ?? null, query.limit ?? 100],
    );
    const first = rows[0];
    return {
      from,
      to,
      group_by: groupBy,
      rows: rows.map((row) => ({
        key: row.key === null ? null : String(row.key),
        cost_usd: String(row.cost_usd),
        requests: Number(row.requests),
        prompt_tokens: Number(row.prompt_tokens),
        completion_tokens: Number(row.completion_tokens),
        cached_tokens: Number(row.cached_tokens),
      })),
      total: {
        cost_usd: first ? String(first.total_cost_usd) : '0.000000',
        requests: first ? Number(first.total_requests) : 0,
        prompt_tokens: first ? Number(first.total_prompt_tokens) : 0,
        completion_tokens: first ? Number(first.total_completion_tokens) : 0,
        cached_tokens: first ? Number(first.total_cached_tokens) : 0,
      },
    };
  }
}

const CSV_COLUMNS = [
  'key',
  'cost_usd',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
] as const;

/** RFC 4180 CSV: a header line, then one line per row; fields quoted when they need it. */
export function spendCsv(rows: readonly SpendRow[]): string {
  const cell = (value: string | number | null): string => {
    const text = value === null ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [
    CSV_COLUMNS.join(','),
    ...rows.map((row) => CSV_COLUMNS.map((c) => cell(row[c])).join(',')),
  ]
    .map((line) => `${line}\r\n`)
    .join('');
}
