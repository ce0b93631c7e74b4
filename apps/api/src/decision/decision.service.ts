import { InvalidRequestError, ReservationConflictError, ReservationNotFoundError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '#config';
import {
  BudgetStore,
  type ScopeLevel,
  parseReservationId,
  type LimitsState,
  costMicros,
  reservationClaims,
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
import { assertCachedWithinPrompt, readUsage } from './usage.shapes.js';
import { LedgerConfirmations } from './ledger.confirmations.js';
import { checkFingerprint } from './check.fingerprint.js';

/** The most tokens one request may count (prompt + completion): usage_ledger's int columns. */
export const MAX_TOKENS_PER_REQUEST = 2_147_483_647;

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
  /** Ledger confirmations leave once per event-loop turn (ledger.confirmations.ts). */
  private readonly confirmations: LedgerConfirmations;

  constructor(
    private readonly config: AppConfig,
    private readonly estimates: EstimateService,
    private readonly catalogue: CatalogueService,
    private readonly store: BudgetStore,
    private readonly ledger: LedgerWriter,
    private readonly settlements: SettlementRepository,
    private readonly metrics: MetricsService,
  ) {
    this.confirmations = new LedgerConfirmations(store);
  }

  /** `caller`: the api_clients.name whose key made the check (usage_ledger.caller). */
  async check(
    dto: CheckRequestBody,
    caller?: string,
  ): Promise<ReserveResult & { estimate: Estimate }> {
    const ttlSeconds = this.ttlSecondsOf(dto);
    const started = performance.now();
    const estimate = await this.estimates.estimate(dto);
    // Bounded where counts are made: the ledger's token columns hold 32-bit integers.
    if (estimate.promptTokens + estimate.completionTokens > MAX_TOKENS_PER_REQUEST) {
      throw new InvalidRequestError(
        `This request counts ${estimate.promptTokens} prompt and ${estimate.completionTokens} completion tokens; at most ${MAX_TOKENS_PER_REQUEST} in all are accepted.`,
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
      // n choices: the floor holds for each of them.
      minCompletionTokens:
        dto.min_max_tokens === undefined ? undefined : dto.min_max_tokens * estimate.choices,
      ttlSeconds,
      idempotencyKey: dto.idempotency_key,
      idempotencyFingerprint: dto.idempotency_key === undefined ? undefined : checkFingerprint(dto),
      scope: this.scopeOf(estimate.subject, estimate.model.name),
      caller,
    });
    // A replayed check is not a decision: it is counted once, when it was made.
    if (!(result.allowed && result.replayed)) {
      this.metrics.recordCheck(
        result,
        estimate.tier,
        estimate.completionTokens,
        (performance.now() - started) / 1000,
      );
    }
    // The store's fresh result, not a copy of it: one object less per check.
    return Object.assign(result, { estimate });
  }

  /**
   * `caller` (who settles) is recorded only when the store lost the reservation and with it the
   * name of the caller that checked.
   */
  async commit(dto: CommitRequestBody, caller?: string): Promise<SettleOutcome> {
    const usage = await this.commitUsage(dto);
    if (usage === null) {
      return this.settledBefore(dto.reservation_id, 'committed');
    }
    return this.settle(
      dto.reservation_id,
      'committed',
      await this.store.commit(dto.reservation_id, usage, this.ancestorsOf(dto.reservation_id)),
      usage,
      caller,
    );
  }

  async refund(dto: RefundRequestBody, caller?: string): Promise<SettleOutcome> {
    if (dto.usage === undefined && dto.completion === undefined) {
      return this.settle(
        dto.reservation_id,
        'refunded',
        await this.store.refund(dto.reservation_id, null, this.ancestorsOf(dto.reservation_id)),
        null,
        caller,
      );
    }
    // A partial usage (or the text so far) follows commit's rules.
    const usage = await this.commitUsage(dto);
    if (usage === null) {
      return this.settledBefore(dto.reservation_id, 'refunded');
    }
    return this.settle(
      dto.reservation_id,
      'refunded',
      await this.store.refund(dto.reservation_id, usage, this.ancestorsOf(dto.reservation_id)),
      usage,
      caller,
    );
  }

  /**
   * The figures of the subject a reservation id names (its limits now), for the rate-limit
   * headers of a settlement refused with 404 or 409; null when the id names no subject (it is
   * not one this service signed) or they cannot be read.
   */
  async limitsOfReservation(reservationId: string): Promise<LimitsState | null> {
    const claims = reservationClaims(reservationId);
    if (!claims) {
      return null;
    }
    try {
      const tier = this.catalogue.tierOf(claims.subject);
      const { state } = await this.store.usage(
        claims.subject,
        this.catalogue.limitsFor(tier, claims.model),
      );
      return state;
    } catch {
      return null;
    }
  }

  /**
   * The reservation's lifetime: `ttl_seconds` (the contract bounds it below), else
   * RESERVATION_TTL_SECONDS; above RESERVATION_TTL_MAX_SECONDS a 400, never clamped.
   */
  private ttlSecondsOf(dto: CheckRequestBody): number {
    const max = this.config.get('RESERVATION_TTL_MAX_SECONDS');
    const ttlSeconds = dto.ttl_seconds ?? this.config.get('RESERVATION_TTL_SECONDS');
    if (ttlSeconds > max) {
      throw new InvalidRequestError(
        `ttl_seconds must be a whole number from 1 to ${max}; got ${ttlSeconds}.`,
      );
    }
    return ttlSeconds;
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
   * Usage as given, with the gaps (prompt tokens, completion as text) filled from what the
   * reservation's signed id carries (its model and prompt tokens: no store read); null for an
   * id this service never issued.
   */
  private async commitUsage(dto: CommitRequestBody | RefundRequestBody): Promise<Usage | null> {
    const read = readUsage(dto.usage ?? {});
    const given = read.completionTokens;
    if ((given === undefined) === (dto.completion === undefined)) {
      throw new InvalidRequestError(
        'Give exactly one of "usage.completion_tokens" (or "usage.output_tokens") or ' +
          '"completion" (the generated text).',
      );
    }
    const prompt = read.promptTokens;
    if (given !== undefined && prompt !== undefined) {
      assertCachedWithinPrompt(prompt, read.cachedTokens);
      return { promptTokens: prompt, completionTokens: given, cachedTokens: read.cachedTokens };
    }
    const reservation = reservationClaims(dto.reservation_id);
    if (!reservation) {
      return null;
    }
    const promptTokens = prompt ?? reservation.promptTokens;
    assertCachedWithinPrompt(promptTokens, read.cachedTokens);
    const completionTokens =
      given ?? (await this.estimates.countCompletion(dto.completion!, reservation.model));
    // Bounded where counts are made, before the store settles what the ledger could not hold.
    if (completionTokens > MAX_TOKENS_PER_REQUEST) {
      throw new InvalidRequestError(
        `The completion counts ${completionTokens} tokens; at most ${MAX_TOKENS_PER_REQUEST} are accepted.`,
      );
    }
    return { promptTokens, completionTokens, cachedTokens: read.cachedTokens };
  }

  private async settle(
    reservationId: string,
    status: SettlementStatus,
    result: SettleResult,
    usage: Usage | null,
    caller: string | undefined,
  ): Promise<SettleOutcome> {
    if (!result.ok) {
      if (result.error === 'not_found') {
        return this.settledBefore(reservationId, status, usage, caller);
      }
      throw new ReservationConflictError(reservationId, result.status);
    }
    if (result.replayed) {
      assertSameUsage(result.settlement, usage);
    }
    // Durable before 200: a retry of this call is safe, the ledger row is unique per reservation.
    await this.ledger.append(result.settlement);
    if (!result.replayed) {
      this.metrics.recordSettlement(result.settlement);
    }
    this.confirmations.add(result.settlement);
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
    usage?: Usage | null,
    caller?: string,
  ): Promise<SettleOutcome> {
    const settlement = await this.settlements.find(reservationId);
    if (!settlement) {
      if (usage !== undefined) {
        return this.settleFromId(reservationId, status, usage, caller);
      }
      throw new ReservationNotFoundError(reservationId);
    }
    if (settlement.status !== status) {
      throw new ReservationConflictError(reservationId, settlement.status);
    }
    if (usage !== undefined) {
      assertSameUsage(settlement, usage);
    }
    const limits = this.catalogue.limitsFor(settlement.tier, settlement.model);
    const { state } = await this.store.usage(settlement.subject, limits);
    return { settlement, state };
  }

  /**
   * A reservation this service issued that neither the store nor the ledger holds: the store
   * lost it (Redis restarted empty, or failed over and lost writes) before it was settled. Its
   * signed id carries what settling needs, so it is settled into the ledger with its real usage
   * (SPEC §7), exactly once: the ledger keeps the first row per id, and an append that lost a
   * race to a different settlement answers 409 like any conflict.
   */
  private async settleFromId(
    reservationId: string,
    status: SettlementStatus,
    usage: Usage | null,
    caller: string | undefined,
  ): Promise<SettleOutcome> {
    const claims = reservationClaims(reservationId);
    if (!claims) {
      throw new ReservationNotFoundError(reservationId);
    }
    const promptTokens = usage?.promptTokens ?? 0;
    const completionTokens = usage?.completionTokens ?? 0;
    const cachedTokens = usage?.cachedTokens ?? 0;
    const settlement: Settlement = {
      reservationId,
      subject: claims.subject,
      tier: claims.tier,
      model: claims.model,
      promptTokens,
      completionTokens,
      cachedTokens,
      costMicros: costMicros(promptTokens, completionTokens, claims.pricing, cachedTokens),
      status,
      reservedAtMs: claims.reservedAtMs,
      settledAtMs: Date.now(),
      reservedTokens: claims.promptTokens + claims.completionTokens,
      caller,
    };
    await this.ledger.append(settlement);
    const stored = await this.settlements.find(reservationId);
    if (!stored) {
      throw new ReservationNotFoundError(reservationId);
    }
    if (
      stored.status !== status ||
      stored.promptTokens !== promptTokens ||
      stored.completionTokens !== completionTokens
    ) {
      throw new ReservationConflictError(reservationId, stored.status);
    }
    this.metrics.recordSettlement(stored);
    const limits = this.catalogue.limitsFor(stored.tier, stored.model);
    const { state } = await this.store.usage(stored.subject, limits);
    return { settlement: stored, state };
  }
}

/**
 * A repeated settlement answers the first one only when it repeats its usage (SPEC §4); another
 * usage is a conflict and the first stands. A refund without usage settled nothing.
 */
function assertSameUsage(settlement: Settlement, usage: Usage | null): void {
  const given = usage ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  if (
    settlement.promptTokens !== given.promptTokens ||
    settlement.completionTokens !== given.completionTokens ||
    (settlement.cachedTokens ?? 0) !== (given.cachedTokens ?? 0)
  ) {
    throw new ReservationConflictError(settlement.reservationId, settlement.status, settlement);
  }
}
