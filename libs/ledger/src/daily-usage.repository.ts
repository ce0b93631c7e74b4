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

  async today(subject: string, day: string): Promise<DailyUsageTotals> {
    if (!DAY.test(day)) {
      throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
    }
    // ::text keeps numeric and bigint exact and the same shape under pg and PGlite.
    const rows: {
      cost_usd: string;
      requests: number;
      prompt_tokens: string;
      completion_tokens: string;
    }[] = await ledgerCall(
      'daily usage',
      this.dataSource.query(
        `SELECT cost_usd::text AS cost_usd, requests, prompt_tokens::text AS prompt_tokens,
                completion_tokens::text AS completion_tokens
           FROM daily_usage WHERE subject = $1 AND day = $2::date`,
        [subject, day],
      ),
    );
    const row = rows[0];
    if (row === undefined) {
      return { costMicros: 0, requests: 0, promptTokens: 0, completionTokens: 0 };
    }
    return {
      costMicros: usdToMicros(row.cost_usd),
      requests: row.requests,
      promptTokens: Number(row.prompt_tokens),
      completionTokens: Number(row.completion_tokens),
    };
  }
}
