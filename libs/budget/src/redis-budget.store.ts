import { IdempotencyKeyReusedError, epochDay, epochMonth, isoDay, isoMonth } from '#kernel';
import {
  BudgetStore,
  SETTLED_RETENTION_MS,
  UNCONFIRMED_RETENTION_MS,
  assertReserveRequest,
  assertUsage,
} from './budget.store.js';
import { type RedisClient, runScript } from './budget.scripts.js';
import { RedisSweeps } from './redis-budget.sweeps.js';
import { SubjectKeys, newRef, parseReservationId } from './budget.keys.js';
import { type ScopeLevels, reserveScoped, settleScoped } from './budget.scope.js';
import type {
  BucketLimit,
  DailyCostSource,
  ExpiryPolicy,
  Limits,
  LimitsState,
  Reservation,
  ReserveRequest,
  ReserveResult,
  SettleResult,
  Settlement,
  Usage,
} from './budget.types.js';
import { type RawLimits, limitsState, viewBucket } from './bucket.math.js';
import {
  type Reply,
  SETTLEMENT_WIDTH,
  STATE_WIDTH,
  asReply,
  dimensionAt,
  numberAt,
  rawStateAt,
  reservationAt,
  reservationOfRecord,
  settlementOf,
  storedBucketAt,
  stringAt,
} from './redis-budget.replies.js';

export interface RedisBudgetStoreOptions {
  /** Test only: milliseconds added to Redis TIME in every script, so tests move time. */
  clockOffsetMs?: () => number;
}

/** Most in-flight reservations listed by usage(). */
const USAGE_LEASES = 1_000;

/**
 * The decision engine on Redis or Redis Cluster: each operation is one Lua script on the
 * subject's slot (budget.keys.ts has the layout), so any number of instances decide atomically.
 */
export class RedisBudgetStore extends BudgetStore {
  readonly mode = 'redis' as const;
  private readonly offset: () => number;
  private readonly sweeps: RedisSweeps;

  constructor(
    private readonly client: RedisClient,
    private readonly keyPrefix: string,
    private readonly dailyCost: DailyCostSource,
    options: RedisBudgetStoreOptions = {},
  ) {
    super();
    this.offset = options.clockOffsetMs ?? (() => 0);
    this.sweeps = new RedisSweeps(client, keyPrefix, this.offset);
  }

  reserve(req: ReserveRequest): Promise<ReserveResult> {
    assertReserveRequest(req);
    return reserveScoped(this.levels, req);
  }

  /** The scope's levels (budget.scope.ts): one script on one level's slot per call. */
  private readonly levels: ScopeLevels = {
    reserveLevel: (req, ref) => this.reserveLevel(req, ref),
    cancelLevel: async (subject, ref, idempotencyKey) => {
      const keys = SubjectKeys.of(this.keyPrefix, subject);
      const scriptKeys = [...keys.settlementKeys(), keys.record(ref)];
      if (idempotencyKey !== undefined) {
        scriptKeys.push(keys.idempotency(idempotencyKey));
      }
      const reply = asReply(
        await runScript(this.client, 'cancel', scriptKeys, [this.offset(), ref, keys.tag]),
      );
      return stringAt(reply, 0) === 'ok' ? this.state(reply, 2, subject, numberAt(reply, 1)) : null;
    },
    settleLevel: async (subject, ref, status, usage) => {
      const keys = SubjectKeys.of(this.keyPrefix, subject);
      await runScript(
        this.client,
        status === 'committed' ? 'commit' : 'refund',
        [...keys.settlementKeys(), keys.record(ref)],
        [
          this.offset(),
          ref,
          usage?.promptTokens ?? -1,
          usage?.completionTokens ?? -1,
          UNCONFIRMED_RETENTION_MS,
          keys.tag,
          usage?.cachedTokens ?? 0,
        ],
      );
    },
  };

  private async reserveLevel(req: ReserveRequest, levelRef?: string): Promise<ReserveResult> {
    const keys = SubjectKeys.of(this.keyPrefix, req.subject);
    const ref = levelRef ?? newRef();
    const scriptKeys = [keys.buckets, keys.state, keys.leases, keys.record(ref), keys.group.due];
    if (req.idempotencyKey !== undefined) {
      scriptKeys.push(keys.idempotency(req.idempotencyKey));
    }
    const { limits, pricing } = req;
    let seed = [-1, 0];
    let seedMonth = [-1, 0];
    // At most: one call, one seeded retry, one more if UTC midnight passed in between.
    for (let attempt = 0; attempt < 3; attempt++) {
      const reply = asReply(
        await runScript(this.client, 'reserve', scriptKeys, [
          this.offset(),
          req.promptTokens,
          req.completionTokens,
          req.minCompletionTokens ?? -1,
          req.ttlSeconds * 1000,
          pricing.inputPicosPerToken,
          pricing.outputPicosPerToken,
          // Capacity and rate of each bucket dimension, -1 for unlimited (no array per pair).
          limits.requests?.capacity ?? -1,
          limits.requests?.perMinute ?? -1,
          limits.tokens?.capacity ?? -1,
          limits.tokens?.perMinute ?? -1,
          limits.modelRequests?.capacity ?? -1,
          limits.modelRequests?.perMinute ?? -1,
          limits.modelTokens?.capacity ?? -1,
          limits.modelTokens?.perMinute ?? -1,
          limits.concurrent ?? -1,
          limits.dailyCostMicros ?? -1,
          req.subject,
          req.tier,
          req.model,
          ref,
          seed[0]!,
          seed[1]!,
          SETTLED_RETENTION_MS,
          keys.tag,
          pricing.cachedInputPicosPerToken ?? pricing.inputPicosPerToken,
          limits.monthlyCostMicros ?? -1,
          seedMonth[0]!,
          seedMonth[1]!,
          levelRef === undefined ? 0 : 1,
          req.caller ?? '',
          req.idempotencyFingerprint ?? '',
          encodeChanges(limits),
        ]),
      );
      const kind = stringAt(reply, 0);
      if (kind === 'reused') {
        throw new IdempotencyKeyReusedError();
      }
      if (kind === 'seed') {
        // The day and the month missing together are read from the ledger together.
        const [day, month] = [stringAt(reply, 1), stringAt(reply, 2)];
        const [dayCost, monthCost] = await Promise.all([
          day === '' ? undefined : this.committedFromSource(req.subject, Number(day)),
          month === '' ? undefined : this.monthFromSource(req.subject, Number(month)),
        ]);
        if (dayCost !== undefined) {
          seed = [Number(day), dayCost];
        }
        if (monthCost !== undefined) {
          seedMonth = [Number(month), monthCost];
        }
        continue;
      }
      if (kind === 'ok') {
        const now = numberAt(reply, 12);
        return {
          allowed: true,
          reservation: reservationAt(
            reply,
            req.subject,
            pricing.cachedInputPicosPerToken ?? pricing.inputPicosPerToken,
          ),
          state: await this.state(reply, 13, req.subject, now),
          replayed: numberAt(reply, 1) === 1,
        };
      }
      const retry = numberAt(reply, 3);
      const now = numberAt(reply, 4);
      return {
        allowed: false,
        reason: stringAt(reply, 1) === 'limited' ? 'limited' : 'exceeds_capacity',
        dimension: dimensionAt(reply, 2),
        ...(retry >= 0 ? { retryAfterMs: retry } : {}),
        state: await this.state(reply, 5, req.subject, now),
      };
    }
    throw new Error(`The daily cost of ${req.subject} could not be seeded from the ledger`);
  }

  async commit(
    reservationId: string,
    usage: Usage,
    ancestors: readonly string[] = [],
  ): Promise<SettleResult> {
    assertUsage(usage);
    const own = await this.settle('commit', reservationId, [
      usage.promptTokens,
      usage.completionTokens,
      usage.cachedTokens ?? 0,
    ]);
    return settleScoped(this.levels, own, reservationId, ancestors, 'committed', usage);
  }

  async refund(
    reservationId: string,
    usage: Usage | null,
    ancestors: readonly string[] = [],
  ): Promise<SettleResult> {
    if (usage) {
      assertUsage(usage);
    }
    const own = await this.settle(
      'refund',
      reservationId,
      usage ? [usage.promptTokens, usage.completionTokens, usage.cachedTokens ?? 0] : [-1, -1, 0],
    );
    return settleScoped(this.levels, own, reservationId, ancestors, 'refunded', usage);
  }

  expireDue(policy: ExpiryPolicy, max = 1_000): Promise<Settlement[]> {
    return this.sweeps.expireDue(policy, max);
  }

  pendingLedger(olderThanMs: number, max = 1_000): Promise<Settlement[]> {
    return this.sweeps.pendingLedger(olderThanMs, max);
  }

  confirmLedgered(settlements: Settlement[]): Promise<void> {
    return this.sweeps.confirmLedgered(settlements);
  }

  async find(reservationId: string): Promise<Reservation | null> {
    const parsed = parseReservationId(reservationId);
    if (!parsed) {
      return null;
    }
    const keys = SubjectKeys.of(this.keyPrefix, parsed.subject);
    const record = await this.client.hgetall(keys.record(parsed.ref));
    return reservationOfRecord(parsed.ref, record)?.reservation ?? null;
  }

  async usage(
    subject: string,
    limits: Limits,
  ): Promise<{ state: LimitsState; inFlight: Reservation[] }> {
    const keys = SubjectKeys.of(this.keyPrefix, subject);
    const reply = asReply(
      await runScript(
        this.client,
        'usage',
        [keys.buckets, keys.state, keys.leases],
        [this.offset(), USAGE_LEASES],
      ),
    );
    const now = numberAt(reply, 0);
    const view = (limit: BucketLimit | null, at: number) =>
      limit
        ? viewBucket(storedBucketAt(reply, at), limit.capacity, limit.perMinute, now, limit.changes)
        : undefined;
    const raw: RawLimits = { requests: view(limits.requests, 1), tokens: view(limits.tokens, 5) };
    if (limits.concurrent !== null) {
      raw.concurrent = { limit: limits.concurrent, active: numberAt(reply, 12) };
    }
    if (limits.dailyCostMicros !== null) {
      const today = epochDay(now);
      const counted = stringAt(reply, 9) !== '' && numberAt(reply, 9) === today;
      const committed = counted
        ? numberAt(reply, 10)
        : await this.committedFromSource(subject, today);
      const inFlight = stringAt(reply, 11) === '' ? 0 : numberAt(reply, 11);
      raw.dailyCost = { limitMicros: limits.dailyCostMicros, usedMicros: committed + inFlight };
    }
    const monthly = limits.monthlyCostMicros ?? null;
    if (monthly !== null) {
      const month = epochMonth(now);
      const counted = stringAt(reply, 14) !== '' && numberAt(reply, 14) === month;
      const committed = counted ? numberAt(reply, 15) : await this.monthFromSource(subject, month);
      const inFlight = stringAt(reply, 11) === '' ? 0 : numberAt(reply, 11);
      raw.monthlyCost = { limitMicros: monthly, usedMicros: committed + inFlight };
    }
    const refs = asReply(reply[13]).map(String);
    const records = await Promise.all(refs.map((ref) => this.client.hgetall(keys.record(ref))));
    const inFlight = refs.flatMap(
      (ref, i) => reservationOfRecord(ref, records[i]!)?.reservation ?? [],
    );
    return { state: limitsState(raw, now), inFlight };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private async settle(
    operation: 'commit' | 'refund',
    reservationId: string,
    usage: number[],
  ): Promise<SettleResult> {
    const parsed = parseReservationId(reservationId);
    if (!parsed) {
      return { ok: false, error: 'not_found' };
    }
    const keys = SubjectKeys.of(this.keyPrefix, parsed.subject);
    const reply = asReply(
      await runScript(
        this.client,
        operation,
        [...keys.settlementKeys(), keys.record(parsed.ref)],
        [
          this.offset(),
          parsed.ref,
          usage[0]!,
          usage[1]!,
          UNCONFIRMED_RETENTION_MS,
          keys.tag,
          usage[2]!,
        ],
      ),
    );
    const kind = stringAt(reply, 0);
    if (kind === 'not_found') {
      return { ok: false, error: 'not_found' };
    }
    if (kind === 'conflict') {
      return { ok: false, error: 'conflict', status: stringAt(reply, 1) as Settlement['status'] };
    }
    // 'ok', replayed, the SETTLEMENT_WIDTH settlement fields, now, the state block.
    const settlement = settlementOf(reply.slice(2, 2 + SETTLEMENT_WIDTH));
    const now = numberAt(reply, 2 + SETTLEMENT_WIDTH);
    return {
      ok: true,
      settlement,
      state: await this.state(reply, 3 + SETTLEMENT_WIDTH, parsed.subject, now),
      replayed: numberAt(reply, 1) === 1,
    };
  }

  /** The state block of a reply; a missing day counter is read from the ledger. */
  private async state(
    reply: Reply,
    at: number,
    subject: string,
    now: number,
  ): Promise<LimitsState> {
    if (reply.length < at + STATE_WIDTH) {
      throw new Error('A budget script answered a truncated state block');
    }
    const { raw, daily, monthly } = rawStateAt(reply, at);
    if (daily) {
      const committed =
        daily.committedMicros ?? (await this.committedFromSource(subject, epochDay(now)));
      raw.dailyCost = {
        limitMicros: daily.limitMicros,
        usedMicros: committed + daily.inFlightMicros,
      };
    }
    if (monthly) {
      const committed =
        monthly.committedMicros ?? (await this.monthFromSource(subject, epochMonth(now)));
      raw.monthlyCost = {
        limitMicros: monthly.limitMicros,
        usedMicros: committed + monthly.inFlightMicros,
      };
    }
    return limitsState(raw, now);
  }

  private async monthFromSource(subject: string, month: number): Promise<number> {
    const value = await this.dailyCost.committedMonthCostMicros(subject, isoMonth(month));
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`The ledger answered an invalid month cost for ${subject}: ${String(value)}`);
    }
    return Math.ceil(value);
  }

  private async committedFromSource(subject: string, day: number): Promise<number> {
    const value = await this.dailyCost.committedCostMicros(subject, isoDay(day));
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`The ledger answered an invalid daily cost for ${subject}: ${String(value)}`);
    }
    // Whole micro-dollars; rounding up never lets a partial micro-dollar be spent twice.
    return Math.ceil(value);
  }
}

/** The limits' recent edits for reserve.lua (lib-buckets.lua parse_changes); '' when none. */
function encodeChanges(limits: Limits): string {
  // The usual case first, without an array: no bucket limit was edited lately.
  if (
    !limits.requests?.changes?.length &&
    !limits.tokens?.changes?.length &&
    !limits.modelRequests?.changes?.length &&
    !limits.modelTokens?.changes?.length
  ) {
    return '';
  }
  return [limits.requests, limits.tokens, limits.modelRequests, limits.modelTokens]
    .map(
      (limit) =>
        limit?.changes?.map((c) => `${c.atMs},${c.capacity},${c.perMinute}`).join(',') ?? '',
    )
    .join('|');
}
