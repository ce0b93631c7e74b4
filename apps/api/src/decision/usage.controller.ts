import { InvalidRequestError, microsToUsd } from '#kernel';
import { Controller, Get, Param } from '@nestjs/common';
import { BudgetStore } from '#budget';
import { CatalogueService, DailyUsageRepository } from '#ledger';
import { RouteSchema } from '@nestjs/platform-fastify';
import { PRINTABLE, ROUTE_SCHEMAS } from './decision.contract.js';
import { ApiCallerRoutes, ApiSubjectUsage } from './decision.openapi.js';
import { isoSeconds, limitsView } from './limits.presenter.js';

@ApiCallerRoutes('usage')
@Controller('v1/subjects')
export class UsageController {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly store: BudgetStore,
    private readonly daily: DailyUsageRepository,
  ) {}

  /** Live buckets and in-flight reservations from the store; today's and this month's charges from the ledger. */
  @ApiSubjectUsage()
  @RouteSchema(ROUTE_SCHEMAS.usage)
  @Get(':id/usage')
  async usage(@Param('id') subject: string): Promise<Record<string, unknown>> {
    if (subject.length < 1 || subject.length > 256 || !PRINTABLE.test(subject)) {
      throw new InvalidRequestError('The subject id must be 1 to 256 printable characters.');
    }
    const tier = this.catalogue.tierOf(subject);
    const day = new Date().toISOString().slice(0, 10);
    const month = day.slice(0, 7);
    const [live, today, thisMonth] = await Promise.all([
      this.store.usage(subject, this.catalogue.limitsFor(tier, null)),
      this.daily.today(subject, day),
      this.daily.month(subject, month),
    ]);
    return {
      subject,
      tier,
      limits: limitsView(live.state),
      today: {
        date: day,
        cost_usd: microsToUsd(today.costMicros),
        requests: today.requests,
        prompt_tokens: today.promptTokens,
        completion_tokens: today.completionTokens,
      },
      month: {
        month,
        cost_usd: microsToUsd(thisMonth.costMicros),
        requests: thisMonth.requests,
        prompt_tokens: thisMonth.promptTokens,
        completion_tokens: thisMonth.completionTokens,
      },
      in_flight: live.inFlight.map((reservation) => ({
        reservation_id: reservation.reservationId,
        model: reservation.model,
        expires_at: isoSeconds(reservation.expiresAtMs),
        estimate: {
          prompt_tokens: reservation.promptTokens,
          completion_tokens: reservation.completionTokens,
          cost_usd: microsToUsd(reservation.costMicros),
        },
      })),
    };
  }
}
