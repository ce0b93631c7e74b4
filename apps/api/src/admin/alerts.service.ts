import { InvalidRequestError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Budget alerts raised (SPEC §5 budget_alerts) and their webhook delivery state, newest first. */
@Injectable()
export class AlertsService {
  constructor(private readonly db: DataSource) {}

  async list(since: string | undefined, limit: number): Promise<Record<string, unknown>[]> {
    const from = since === undefined ? new Date(Date.now() - 7 * 86_400_000) : new Date(since);
    if (Number.isNaN(from.getTime())) {
      throw new InvalidRequestError(`since must be an ISO date or date-time; got ${since}.`);
    }
    return this.db.query(
      `SELECT id::text AS id, subject, tier, "window", period, threshold_percent,
              limit_usd::text AS limit_usd, spent_usd::text AS spent_usd, raised_at, delivered_at,
              attempts, last_error,
              CASE WHEN delivered_at IS NOT NULL THEN 'delivered'
                   WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END AS delivery
       FROM budget_alerts WHERE raised_at >= $1 ORDER BY raised_at DESC, id DESC LIMIT $2`,
      [from.toISOString(), limit],
    );
  }
}
