import { DomainError } from '#kernel';
import { Injectable } from '@nestjs/common';
import {
  BudgetStore,
  type ScopeLevel,
  parseReservationId,
  type LimitsState,
  type ReserveResult,
  type SettleResult,
  type Settlement,
  type SettlementStatus,
  type Usage,
} from '#budget';
import { CatalogueService, LedgerWriter, SettlementRepository } from '#ledger';
import { MetricsService } from '../observability/metrics.service.js';
import type {
  CheckRequestBody,
  CommitRequestBody,
  RefundRequestBody,
} from './decision.contract.js';
import { type Estimate, EstimateService } from './estimate.service.js';

export interface SettleOutcome {
  settlement: Settlement;
  state: LimitsState;
}

/**
 * The decision path: count and price (EstimateService), reserve atomically (BudgetStore, one
 * Redis round trip), and on settlement make the ledger row durable before answering.
 */
@Injectable()
export class DecisionService {
  constructor(
    private readonly estimates: EstimateService,
    private readonly catalogue: CatalogueService,
    private readonly store: BudgetStore,
    private readonly ledger: LedgerWriter,
    private readonly settlements: SettlementRepository,
    private readonly metrics: MetricsService,
  ) {}

  async check(
    dto: CheckRequestBody,
    ttlMaxSeconds: number,
  ): Promise<ReserveResult & { estimate: Estimate }> {
    const ttlSeconds = dto.ttl_seconds ?? this.estimates.defaultTtlSeconds;
    if (ttlSeconds > ttlMaxSeconds) {
      throw new DomainError(
        'invalid_request',
        `ttl_seconds must be a whole number from 1 to ${ttlMaxSeconds}; got ${ttlSeconds}.`,
        400,
      );
    }
    const started = performance.now();
    const estimate = await this.estimates.estimate(dto);
    if (dto.min_max_tokens !== undefined && dto.min_max_tokens > estimate.completionTokens) {
      throw new DomainError(
        'invalid_request',
        `min_max_tokens (${dto.min_max_tokens}) must not exceed max_tokens (${estimate.completionTokens}).`,
        400,
      );
    }
    const result = await this.store.reserve({
      subject: estimate.subject,
      tier: estimate.tier,
      model: estimate.model.name,
      limits: this.catalogue.limitsFor(estimate.tier, estimate.model.name),
      pricing: estimate.model.pricing,
      promptTokens: estimate.promptTokens,
      completionTokens: estimate.completionTokens,
      minCompletionTokens: dto.min_max_tokens,
      ttlSeconds,
      idempotencyKey: dto.idempotency_key,
      scope: this.scopeOf(estimate.subject, estimate.model.name),
    });
    this.metrics.recordCheck(
      result,
      estimate.tier,
      estimate.completionTokens,
      (performance.now() - started) / 1000,
    );
    return { ...result, estimate };
  }

  async commit(dto: CommitRequestBody): Promise<SettleOutcome> {
    const usage = await this.commitUsage(dto);
    if (usage === null) {
      return this.settledBefore(dto.reservation_id, 'committed');
    }
    return this.settle(
      dto.reservation_id,
      'committed',
      await this.store.commit(dto.reservation_id, usage, this.ancestorsOf(dto.reservation_id)),
    );
  }

  async refund(dto: RefundRequestBody): Promise<SettleOutcome> {
    const usage = dto.usage
      ? { promptTokens: dto.usage.prompt_tokens, completionTokens: dto.usage.completion_tokens }
      : null;
    return this.settle(
      dto.reservation_id,
      'refunded',
      await this.store.refund(dto.reservation_id, usage, this.ancestorsOf(dto.reservation_id)),
    );
  }

  /**
   * The subject's ancestors whose tier limits anything (SPEC §3 scopes), nearest first; absent
   * for a subject with no parent, which so costs nothing more than before.
   */
  private scopeOf(subject: string, model: string): ScopeLevel[] | undefined {
    const ancestors = this.catalogue.ancestorsOf(subject);
    if (ancestors.length === 0) {
      return undefined;
    }
    const scope: ScopeLevel[] = [];
    for (const ancestor of ancestors) {
      const tier = this.catalogue.tierOf(ancestor);
      const limits = this.catalogue.limitsFor(tier, model);
      if (Object.values(limits).some((limit) => limit !== null && limit !== undefined)) {
        scope.push({ subject: ancestor, tier, limits });
      }
    }
    return scope.length > 0 ? scope : undefined;
  }

  /** The ancestors whose shares of a reservation are settled with it (its subject's scope). */
  private ancestorsOf(reservationId: string): readonly string[] {
    const parsed = parseReservationId(reservationId);
    return parsed ? this.catalogue.ancestorsOf(parsed.subject) : [];
  }

  /**
   * Usage as given, with the gaps (prompt tokens, completion as text) filled from the
   * reservation; null when the store no longer holds it (settled long ago, or never issued).
   */
  private async commitUsage(dto: CommitRequestBody): Promise<Usage | null> {
    const given = dto.usage?.completion_tokens;
    if ((given === undefined) === (dto.completion === undefined)) {
      throw new DomainError(
        'invalid_request',
        'Give exactly one of "usage.completion_tokens" or "completion" (the generated text).',
        400,
      );
    }
    const prompt = dto.usage?.prompt_tokens;
    if (given !== undefined && prompt !== undefined) {
      return { promptTokens: prompt, completionTokens: given };
    }
    const reservation = await this.store.find(dto.reservation_id);
    if (!reservation) {
      return null;
    }
    return {
      promptTokens: prompt ?? reservation.promptTokens,
      completionTokens:
        given ?? (await this.estimates.countCompletion(dto.completion!, reservation.model)),
    };
  }

  private async settle(
    reservationId: string,
    status: SettlementStatus,
    result: SettleResult,
  ): Promise<SettleOutcome> {
    if (!result.ok) {
      if (result.error === 'not_found') {
        return this.settledBefore(reservationId, status);
      }
      throw conflict(reservationId, result.status);
    }
    // Durable before 200: a retry of this call is safe, the ledger row is unique per reservation.
    await this.ledger.append(result.settlement);
    if (!result.replayed) {
      this.metrics.recordSettlement(result.settlement);
    }
    // Unconfirmed settlements are re-appended by the sweeper, so a failure here loses nothing.
    void this.store.confirmLedgered([result.settlement]).catch(() => undefined);
    return { settlement: result.settlement, state: result.state };
  }

  /**
   * A reservation the store no longer holds: the store keeps settled ones only a short while
   * (SETTLED_RETENTION_MS), the ledger for good. A repeat of the same settlement answers its
   * ledger row (with the subject's limits now); another settlement is a conflict.
   */
  private async settledBefore(
    reservationId: string,
    status: SettlementStatus,
  ): Promise<SettleOutcome> {
    const settlement = await this.settlements.find(reservationId);
    if (!settlement) {
      throw notFound(reservationId);
    }
    if (settlement.status !== status) {
      throw conflict(reservationId, settlement.status);
    }
    const limits = this.catalogue.limitsFor(settlement.tier, settlement.model);
    const { state } = await this.store.usage(settlement.subject, limits);
    return { settlement, state };
  }
}

function conflict(reservationId: string, status: SettlementStatus): DomainError {
  return new DomainError(
    'reservation_conflict',
    `Reservation ${reservationId} is already ${status}; it cannot be settled another way.`,
    409,
    { status },
  );
}

function notFound(reservationId: string): DomainError {
  return new DomainError(
    'reservation_not_found',
    `No reservation ${reservationId}: it was never issued (or it was lost with the store before it was settled).`,
    404,
  );
}
