import { ReservationConflictError, ReservationNotFoundError, microsToUsd } from '#kernel';
import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { LimitsState, Settlement } from '#budget';
import { RouteSchema } from '@nestjs/platform-fastify';
import { type Caller, CurrentCaller } from '../auth/caller.js';
import { assignLogFields } from '../observability/request-log.js';
import { checkLogFields, settlementLogFields } from './decision.log.js';
import { DecisionService } from './decision.service.js';
import { EstimateService } from './estimate.service.js';
import { isoSeconds, limitsView, rateLimitHeaders } from './limits.presenter.js';
import {
  ApiCallerRoutes,
  ApiCheck,
  ApiCommit,
  ApiEstimate,
  ApiRefund,
} from './decision.openapi.js';
import { refusalBody, scopeView } from './refusal.presenter.js';
import {
  type CheckRequestBody,
  type CommitRequestBody,
  type EstimateRequestBody,
  type RefundRequestBody,
  ROUTE_SCHEMAS,
} from './decision.contract.js';

@ApiCallerRoutes('decision')
@Controller('v1')
export class DecisionController {
  constructor(
    private readonly decisions: DecisionService,
    private readonly estimates: EstimateService,
  ) {}

  @ApiCheck()
  @RouteSchema(ROUTE_SCHEMAS.check)
  @Post('check')
  @HttpCode(200)
  async check(
    @Body() dto: CheckRequestBody,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const decision = await this.decisions.check(dto, caller.name);
    assignLogFields(reply.request, checkLogFields(decision));
    const now = Date.now();
    void reply.headers(rateLimitHeaders(decision.state, now));
    if (!decision.allowed) {
      const { body, retryAfterSeconds } = refusalBody(decision, now);
      body.scope_subject = decision.scopeSubject ?? decision.estimate.subject;
      if (decision.scope?.length) {
        body.scope = scopeView(decision.scope);
      }
      if (retryAfterSeconds !== undefined) {
        void reply.header('retry-after', String(retryAfterSeconds));
      }
      void reply.status(429);
      return body;
    }
    const { reservation } = decision;
    const answer: Record<string, unknown> = {
      allowed: true,
      reservation_id: reservation.reservationId,
      subject: reservation.subject,
      tier: reservation.tier,
      model: decision.estimate.model.row,
      requested_model: decision.estimate.requestedModel,
      estimate: {
        prompt_tokens: reservation.promptTokens,
        completion_tokens: reservation.completionTokens,
        cost_usd: microsToUsd(reservation.costMicros),
      },
      // Per choice: n completions share what was reserved.
      granted_max_tokens: Math.floor(reservation.completionTokens / decision.estimate.choices),
      expires_at: isoSeconds(reservation.expiresAtMs),
      limits: limitsView(decision.state),
    };
    // Set only where there is a scope: no spread of an empty object per check.
    if (decision.scope?.length) {
      answer.scope = scopeView(decision.scope);
    }
    return answer;
  }

  @ApiEstimate()
  @RouteSchema(ROUTE_SCHEMAS.estimate)
  @Post('estimate')
  @HttpCode(200)
  async estimate(@Body() dto: EstimateRequestBody): Promise<Record<string, unknown>> {
    const estimate = await this.estimates.estimate(dto);
    return {
      subject: estimate.subject,
      tier: estimate.tier,
      model: estimate.model.row,
      requested_model: estimate.requestedModel,
      estimate: {
        prompt_tokens: estimate.promptTokens,
        completion_tokens: estimate.completionTokens,
        cost_usd: microsToUsd(estimate.costMicros),
      },
    };
  }

  @ApiCommit()
  @RouteSchema(ROUTE_SCHEMAS.commit)
  @Post('commit')
  @HttpCode(200)
  async commit(
    @Body() dto: CommitRequestBody,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const { settlement, state } = await this.withLimitHeaders(
      dto.reservation_id,
      reply,
      this.decisions.commit(dto, caller.name),
    );
    assignLogFields(reply.request, settlementLogFields(settlement));
    void reply.headers(rateLimitHeaders(state, Date.now()));
    return settledBody(settlement, state);
  }

  @ApiRefund()
  @RouteSchema(ROUTE_SCHEMAS.refund)
  @Post('refund')
  @HttpCode(200)
  async refund(
    @Body() dto: RefundRequestBody,
    @CurrentCaller() caller: Caller,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Record<string, unknown>> {
    const { settlement, state } = await this.withLimitHeaders(
      dto.reservation_id,
      reply,
      this.decisions.refund(dto, caller.name),
    );
    assignLogFields(reply.request, settlementLogFields(settlement));
    void reply.headers(rateLimitHeaders(state, Date.now()));
    return settledBody(settlement, state);
  }

  /**
   * A settlement refused with 404 or 409 still carries the subject's rate-limit headers when
   * the reservation id names it (SPEC §4 Headers: every commit answer).
   */
  private async withLimitHeaders<T>(
    reservationId: string,
    reply: FastifyReply,
    settling: Promise<T>,
  ): Promise<T> {
    try {
      return await settling;
    } catch (error) {
      if (error instanceof ReservationNotFoundError || error instanceof ReservationConflictError) {
        const state = await this.decisions.limitsOfReservation(reservationId);
        if (state) {
          void reply.headers(rateLimitHeaders(state, Date.now()));
        }
      }
      throw error;
    }
  }
}

function settledBody(settlement: Settlement, state: LimitsState): Record<string, unknown> {
  return {
    reservation_id: settlement.reservationId,
    status: settlement.status,
    usage: {
      prompt_tokens: settlement.promptTokens,
      completion_tokens: settlement.completionTokens,
      cached_tokens: settlement.cachedTokens ?? 0,
    },
    cost_usd: microsToUsd(settlement.costMicros),
    limits: limitsView(state),
  };
}
