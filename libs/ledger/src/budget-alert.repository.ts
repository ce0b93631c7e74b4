import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A budget alert claimed for one delivery attempt: what the webhook is told. */
export interface ClaimedAlert {
  /** bigint as decimal text. */
  id: string;
  subject: string;
  tier: string;
  window: 'day' | 'month';
  period: string;
  thresholdPercent: number;
  /** Six fractional digits, as everywhere in the API. */
  limitUsd: string;
  spentUsd: string;
  raisedAt: Date;
  /** This attempt's number (1 for the first). */
  attempt: number;
}

/** How one attempt ended. */
export type AlertOutcome =
  | { id: string; attempt: number; delivered: true }
  | { id: string; attempt: number; delivered: false; error: string; retryInMs: number };

interface ClaimedRow {
  id: string;
  subject: string;
  tier: string;
  window: 'day' | 'month';
  period: string;
  threshold_percent: number;
  limit_usd: string;
  spent_usd: string;
  raised_at: Date | string;
  attempts: number;
}

/**
 * budget_alerts as the webhook's delivery queue, shared by every instance. Each statement stands
 * alone (no transaction is held while a webhook is called, and PGlite's one shared session
 * needs no BEGIN): a claim takes due rows with FOR UPDATE SKIP LOCKED and pushes their
 * next_attempt_at a lease ahead, so no other instance takes them while this one tries; the
 * outcome then marks them delivered or due again after a backoff. An instance that dies
 * mid-attempt leaves its claim to expire: the alert is tried again (at least once).
 */
@Injectable()
export class BudgetAlertRepository {
  constructor(private readonly dataSource: DataSource) {}

  async claimDue(limit: number, leaseMs: number): Promise<ClaimedAlert[]> {
    const rows: ClaimedRow[] = await this.dataSource.query(
      // WITH … SELECT: TypeORM answers a bare UPDATE with [rows, count], a SELECT with rows.
      `WITH claimed AS (
       UPDATE budget_alerts a
       SET attempts = a.attempts + 1,
           next_attempt_at = now() + $2::int * interval '1 millisecond'
       FROM (
         SELECT id FROM budget_alerts
         WHERE delivered_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at, id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE a.id = due.id
       RETURNING a.id::text AS id, a.subject, a.tier, a."window", a.period, a.threshold_percent,
                 round(a.limit_usd, 6)::text AS limit_usd,
                 round(a.spent_usd, 6)::text AS spent_usd,
                 a.raised_at, a.attempts
       )
       SELECT * FROM claimed`,
      [limit, leaseMs],
    );
    return rows
      .map((row) => ({
        id: row.id,
        subject: row.subject,
        tier: row.tier,
        window: row.window,
        period: row.period,
        thresholdPercent: row.threshold_percent,
        limitUsd: row.limit_usd,
        spentUsd: row.spent_usd,
        raisedAt: new Date(row.raised_at),
        attempt: row.attempts,
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  /**
   * Records the attempts' outcomes in one statement. A failure is recorded only if no other
   * instance claimed the alert since (its lease ran out): that attempt's outcome is the one that
   * counts. A delivery is recorded whatever happened meanwhile.
   */
  async recordOutcomes(outcomes: readonly AlertOutcome[]): Promise<string[]> {
    if (outcomes.length === 0) {
      return [];
    }
    const rows: { id: string }[] = await this.dataSource.query(
      `WITH recorded AS (
       UPDATE budget_alerts a
       SET delivered_at = CASE WHEN o.delivered THEN now() END,
           last_error = CASE WHEN o.delivered THEN a.last_error ELSE o.error END,
           next_attempt_at = CASE WHEN o.delivered THEN a.next_attempt_at
                                  ELSE now() + o.retry_ms * interval '1 millisecond' END
       FROM unnest($1::bigint[], $2::int[], $3::boolean[], $4::text[], $5::int[])
         AS o(id, attempt, delivered, error, retry_ms)
       WHERE a.id = o.id AND a.delivered_at IS NULL AND (o.delivered OR a.attempts = o.attempt)
       RETURNING CASE WHEN o.delivered THEN a.id::text END AS id
       )
       SELECT * FROM recorded`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => o.attempt),
        outcomes.map((o) => o.delivered),
        outcomes.map((o) => (o.delivered ? null : o.error.slice(0, 1000))),
        outcomes.map((o) => (o.delivered ? 0 : Math.round(o.retryInMs))),
      ],
    );
    // The alerts this call marked delivered (not those another instance had already marked).
    return rows.flatMap((row) => (row.id === null ? [] : [row.id]));
  }
}
