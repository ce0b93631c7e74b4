import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DailyCostSource } from '#budget';
import { usdToMicros } from '#kernel';
import { ledgerCall } from './ledger.timeout.js';

/** One subject's charged settlements of one UTC day (SPEC §4 `today`). */
export interface DailyUsageTotals {
  costMicros: number;
  /** Settlements that were charged (cost > 0). */
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

interface TotalsRow {
  cost_usd: string | null;
  requests: number | string | null;
  prompt_tokens: string | null;
  completion_tokens: string | null;
}

/**
 * Reads the per-subject, per-UTC-day totals the LedgerWriter keeps in daily_usage. Also the
 * decision engine's source of the day's committed cost, to rebuild it after a Redis flush.
 */
@Injectable()
export class DailyUsageRepository extends DailyCostSource {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /** Committed cost in micro-dollars of `subject` on `day` ('YYYY-MM-DD', UTC); 0 when none. */
  override async committedCostMicros(subject: string, day: string): Promise<number> {
    return (await this.today(subject, day)).costMicros;
  }

  /** Committed cost in micro-dollars of `subject` in `month` ('YYYY-MM', UTC); 0 when none. */
  override async committedMonthCostMicros(subject: string, month: string): Promise<number> {
    return (await this.month(subject, month)).costMicros;
  }

  /** The totals of the subject's daily rows of one UTC calendar month ('YYYY-MM'). */
  async month(subject: string, month: string): Promise<DailyUsageTotals> {
    if (!MONTH.test(month)) {
      throw new RangeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
    }
    // A range over the primary key (subject, day): the month's rows only.
    const rows: TotalsRow[] = await ledgerCall(
      'monthly usage',
      this.dataSource.query(
        `SELECT sum(cost_usd)::text AS cost_usd, sum(requests)::text AS requests,
                sum(prompt_tokens)::text AS prompt_tokens,
                sum(completion_tokens)::text AS completion_tokens
           FROM daily_usage
          WHERE subject = $1 AND day >= ($2 || '-01')::date
            AND day < ($2 || '-01')::date + interval '1 month'`,
        [subject, month],
      ),
    );
    return totals(rows[0]);
  }

  async today(subject: string, day: string): Promise<DailyUsageTotals> {
    if (!DAY.test(day)) {
      throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
    }
    // ::text keeps numeric and bigint exact and the same shape under pg and PGlite.
    const rows: TotalsRow[] = await ledgerCall(
      'daily usage',
      this.dataSource.query(
        `SELECT cost_usd::text AS cost_usd, requests, prompt_tokens::text AS prompt_tokens,
                completion_tokens::text AS completion_tokens
           FROM daily_usage WHERE subject = $1 AND day = $2::date`,
        [subject, day],
      ),
    );
    return totals(rows[0]);
  }
}

function totals(row: TotalsRow | undefined): DailyUsageTotals {
  if (row?.cost_usd === null || row?.cost_usd === undefined) {
    return { costMicros: 0, requests: 0, promptTokens: 0, completionTokens: 0 };
  }
  return {
    costMicros: usdToMicros(row.cost_usd),
    requests: Number(row.requests),
    promptTokens: Number(row.prompt_tokens),
    completionTokens: Number(row.completion_tokens),
  };
}
