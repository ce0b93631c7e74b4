import { microsToUsd, TierUnavailableError, utcDay } from '#kernel';
import { BudgetStore } from '#budget';
import type { InFlightSummary, TopSubject as TopSubjectAnswer } from '#client';
import { CatalogueService } from '#ledger';
import { Injectable } from '@nestjs/common';
import { type LimitsView, limitsView } from '../decision/limits.presenter.js';
import { SpendService } from './spend.service.js';
import type { TopPeriod, TopSubjectsQuery } from './top-subjects.dto.js';

/** The answer the client library types, with the limits' own shape. */
export interface TopSubject extends Omit<TopSubjectAnswer, 'limits'> {
  /** The subject's own live limits (as /v1/check shows them); null when its tier cannot be read. */
  limits: LimitsView | null;
}

export interface TopSubjects {
  period: TopPeriod;
  from: string;
  to: string;
  subjects: TopSubject[];
}

/**
 * The subjects that spent most in the period (from the ledger, exact), each with its current
 * tier, its live limits and what it holds in flight (from the store): what an operator looks at
 * first when spend climbs.
 */
@Injectable()
export class TopSubjectsService {
  constructor(
    private readonly spend: SpendService,
    private readonly catalogue: CatalogueService,
    private readonly store: BudgetStore,
  ) {}

  async top(query: TopSubjectsQuery): Promise<TopSubjects> {
    const period = query.period ?? 'month';
    const to = utcDay(Date.now());
    const from = period === 'day' ? to : `${to.slice(0, 7)}-01`;
    const report = await this.spend.report({
      from,
      to,
      group_by: 'subject',
      limit: query.limit ?? 10,
    });
    const subjects = await Promise.all(
      report.rows
        .filter((row): row is typeof row & { key: string } => row.key !== null)
        .map(async (row) => ({
          subject: row.key,
          tier: this.catalogue.tierOf(row.key),
          cost_usd: row.cost_usd,
          requests: row.requests,
          prompt_tokens: row.prompt_tokens,
          completion_tokens: row.completion_tokens,
          ...(await this.live(row.key)),
        })),
    );
    return { period, from, to, subjects };
  }

  private async live(
    subject: string,
  ): Promise<{ limits: LimitsView | null; in_flight: InFlightSummary | null }> {
    let limits;
    try {
      limits = this.catalogue.limitsFor(this.catalogue.tierOf(subject), null);
    } catch (error) {
      // A tier row the catalogue skipped (its checks answer 503): its spend still shows.
      if (error instanceof TierUnavailableError) {
        return { limits: null, in_flight: null };
      }
      throw error;
    }
    const { state, inFlight } = await this.store.usage(subject, limits);
    return {
      limits: limitsView(state),
      in_flight: {
        reservations: inFlight.length,
        cost_usd: microsToUsd(inFlight.reduce((sum, r) => sum + r.costMicros, 0)),
        prompt_tokens: inFlight.reduce((sum, r) => sum + r.promptTokens, 0),
        completion_tokens: inFlight.reduce((sum, r) => sum + r.completionTokens, 0),
      },
    };
  }
}
