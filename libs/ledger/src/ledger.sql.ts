import type { Settlement, SettlementStatus } from '#budget';
import { InvalidSettlementError, microsToUsd, utcDay } from '#kernel';

/**
 * One statement writes a whole batch, so it is atomic on its own (one implicit transaction, one
 * round trip, one WAL flush) and needs no BEGIN/COMMIT on a session that PGlite shares between
 * all callers.
 *
 * - usage_ledger: exactly one row per reservation; a retried append hits ON CONFLICT and inserts
 *   nothing, and RETURNING names only the rows this statement really inserted.
 * - daily_usage: the charged rows among those (cost > 0, SPEC §5) summed per (subject, UTC day)
 *   and added in the same statement, so a retry never charges twice — to the subject's row and
 *   to each of its ancestors' (`levels`: the settlement's scope), so a team's row is its members'
 *   total.
 * - budget_alerts (RAISE_ALERTS_SQL): for a subject whose tier has alert_thresholds, every
 *   threshold of its daily or monthly limit that its new day or month total has reached and
 *   that has no alert yet is raised, in the same statement as the ledger row that reached it;
 *   the same for each ancestor in the settlement's scope, on its aggregate row and its own tier;
 *   the unique (subject, window, period, threshold) makes it exactly once however many batches
 *   race. "Reached" rather than "crossed by this
 *   batch": a threshold added, or a limit lowered, below what is already spent alerts at the
 *   next charge.
 * - Lock order: ledger rows go in reservation_id order and daily rows in (subject, day) order,
 *   all ledger rows before any daily row, and alerts in key order after every daily row, so
 *   concurrent batches of any number of instances wait on each other but never deadlock.
 */
const RAISE_ALERTS_SQL = `, alerting AS (
  SELECT DISTINCT judged.subject, tiers.name AS tier, tiers.alert_thresholds,
         tiers.daily_cost_limit_usd, tiers.monthly_cost_limit_usd
  FROM (
    SELECT subject, tier FROM input
    UNION
    -- An ancestor's aggregate is judged on the ancestor's own tier (its subjects row).
    SELECT s.id, s.tier FROM levels JOIN subjects s ON s.id = levels.subject
    WHERE NOT EXISTS (SELECT 1 FROM input WHERE input.subject = levels.subject)
  ) judged JOIN tiers ON tiers.name = judged.tier
  WHERE tiers.alert_thresholds IS NOT NULL
    AND (tiers.daily_cost_limit_usd > 0 OR tiers.monthly_cost_limit_usd > 0)
), spent AS (
  SELECT u.subject, a.tier, a.alert_thresholds, 'day' AS "window",
         to_char(u.day, 'YYYY-MM-DD') AS period, a.daily_cost_limit_usd AS limit_usd,
         u.cost_usd AS spent_usd
  FROM upserted u JOIN alerting a USING (subject)
  WHERE a.daily_cost_limit_usd > 0
  UNION ALL
  -- The month: this day's row as just written, plus the month's other days as they stood.
  SELECT u.subject, a.tier, a.alert_thresholds, 'month', to_char(u.day, 'YYYY-MM'),
         a.monthly_cost_limit_usd,
         u.cost_usd + (
           SELECT coalesce(sum(m.cost_usd), 0) FROM daily_usage m
           WHERE m.subject = u.subject AND m.day <> u.day
             AND m.day >= date_trunc('month', u.day)::date
             AND m.day < (date_trunc('month', u.day) + interval '1 month')::date)
  FROM upserted u JOIN alerting a USING (subject)
  WHERE a.monthly_cost_limit_usd > 0
), raised AS (
  INSERT INTO budget_alerts (subject, tier, "window", period, threshold_percent, limit_usd,
                             spent_usd)
  SELECT DISTINCT ON (subject, "window", period, percent)
         subject, tier, "window", period, percent, limit_usd, spent_usd
  FROM spent s CROSS JOIN LATERAL unnest(s.alert_thresholds) AS t(percent)
  WHERE s.spent_usd * 100 >= s.limit_usd * t.percent
    AND NOT EXISTS (
      SELECT 1 FROM budget_alerts b
      WHERE b.subject = s.subject AND b."window" = s."window" AND b.period = s.period
        AND b.threshold_percent = t.percent
    )
  ORDER BY subject, "window", period, percent, spent_usd DESC
  ON CONFLICT ON CONSTRAINT uq_budget_alerts DO NOTHING
  RETURNING 1
)`;

const APPEND_BATCH_CTES = `
WITH input AS (
  SELECT *
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[],
              $7::numeric[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::date[],
              $12::int[], $15::text[])
    AS t(reservation_id, subject, tier, model, prompt_tokens, completion_tokens,
         cost_usd, status, reserved_at, settled_at, day, cached_tokens, caller)
), levels AS (
  SELECT reservation_id, subject FROM input
  UNION ALL
  SELECT * FROM unnest($13::text[], $14::text[]) AS a(reservation_id, subject)
), inserted AS (
  INSERT INTO usage_ledger (reservation_id, subject, tier, model, prompt_tokens, completion_tokens,
                            cost_usd, status, reserved_at, settled_at, cached_tokens, caller)
  SELECT reservation_id, subject, tier, model, prompt_tokens, completion_tokens,
         cost_usd, status, reserved_at, settled_at, cached_tokens, caller
  FROM input
  ORDER BY reservation_id
  ON CONFLICT (reservation_id) DO NOTHING
  RETURNING reservation_id
), charged AS (
  SELECT levels.subject, input.day, sum(input.cost_usd) AS cost_usd, count(*)::int AS requests,
         sum(input.prompt_tokens)::bigint AS prompt_tokens,
         sum(input.completion_tokens)::bigint AS completion_tokens
  FROM inserted JOIN input USING (reservation_id) JOIN levels USING (reservation_id)
  WHERE input.cost_usd > 0
  GROUP BY levels.subject, input.day
), upserted AS (
  INSERT INTO daily_usage AS d (subject, day, cost_usd, requests, prompt_tokens, completion_tokens)
  SELECT subject, day, cost_usd, requests, prompt_tokens, completion_tokens
  FROM charged
  ORDER BY subject, day
  ON CONFLICT (subject, day) DO UPDATE SET
    cost_usd = d.cost_usd + EXCLUDED.cost_usd,
    requests = d.requests + EXCLUDED.requests,
    prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens
  RETURNING d.subject, d.day, d.cost_usd
)`;

export const APPEND_BATCH_SQL = `${APPEND_BATCH_CTES}
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM upserted)::int AS days,
       0 AS alerts`;

/**
 * APPEND_BATCH_SQL that also raises budget alerts. Its extra planning and joins cost about as
 * much again as the plain statement, so a batch none of whose tiers has thresholds runs the
 * plain one.
 */
export const APPEND_BATCH_WITH_ALERTS_SQL = `${APPEND_BATCH_CTES}${RAISE_ALERTS_SQL}
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM upserted)::int AS days,
       (SELECT count(*) FROM raised)::int AS alerts`;

/**
 * The parameters of APPEND_BATCH_SQL: twelve column arrays, the (reservation id, ancestor)
 * pairs of the settlements' scopes, then the callers (NULL where unknown). Settlements with the
 * same reservation id must have been merged before: one INSERT may not carry a key twice.
 */
export function appendBatchParams(settlements: readonly Settlement[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 15 }, () => []);
  for (const s of settlements) {
    const row = [
      s.reservationId,
      s.subject,
      s.tier,
      s.model,
      s.promptTokens,
      s.completionTokens,
      microsToUsd(s.costMicros),
      s.status,
      new Date(s.reservedAtMs).toISOString(),
      new Date(s.settledAtMs).toISOString(),
      utcDay(s.settledAtMs),
      s.cachedTokens ?? 0,
    ];
    row.forEach((value, index) => columns[index]!.push(value));
    columns[14]!.push(s.caller ?? null);
    for (const ancestor of s.scope ?? []) {
      columns[12]!.push(s.reservationId);
      columns[13]!.push(ancestor);
    }
  }
  return columns;
}

const STATUSES: ReadonlySet<SettlementStatus> = new Set(['committed', 'refunded', 'expired']);
const INT4_MAX = 2_147_483_647;
/** 2000-01-01 .. 9999-12-31: anything else is a clock or unit bug (seconds instead of ms). */
const MIN_MS = Date.UTC(2000, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31);

/**
 * Refuses, before it can poison a whole batch, anything Postgres would reject whatever its
 * state: the only failures left for a batch are then the database's own.
 */
export function assertValidSettlement(s: Settlement): void {
  const fail = (problem: string): never => {
    throw new InvalidSettlementError(s.reservationId, problem);
  };
  for (const key of ['reservationId', 'subject', 'tier', 'model'] as const) {
    const value: unknown = s[key];
    if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
      fail(`${key} must be a non-empty string without NUL`);
    }
  }
  for (const key of ['promptTokens', 'completionTokens'] as const) {
    if (!Number.isSafeInteger(s[key]) || s[key] < 0 || s[key] > INT4_MAX) {
      fail(`${key} must be an integer from 0 to ${INT4_MAX}`);
    }
  }
  const cached = s.cachedTokens ?? 0;
  if (!Number.isSafeInteger(cached) || cached < 0 || cached > s.promptTokens) {
    fail('cachedTokens must be an integer from 0 to promptTokens');
  }
  if (!Number.isSafeInteger(s.costMicros) || s.costMicros < 0) {
    fail('costMicros must be a non-negative safe integer');
  }
  if (!STATUSES.has(s.status)) {
    fail(`status must be committed, refunded or expired`);
  }
  for (const key of ['reservedAtMs', 'settledAtMs'] as const) {
    if (!Number.isFinite(s[key]) || s[key] < MIN_MS || s[key] > MAX_MS) {
      fail(`${key} must be epoch milliseconds between 2000 and 9999`);
    }
  }
}
