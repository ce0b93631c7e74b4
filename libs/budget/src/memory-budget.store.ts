import { epochDay, epochMonth, isoDay, isoMonth } from '#kernel';
import { parseReservationId } from './budget.keys.js';
import {
  BudgetStore,
  SETTLED_RETENTION_MS,
  UNCONFIRMED_RETENTION_MS,
  assertReserveRequest,
  assertUsage,
} from './budget.store.js';
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
import {
  type BucketView,
  type RawLimits,
  costMicros,
  limitsState,
  viewBucket,
} from './bucket.math.js';
import {
  type MemoryIdempotencyEntry,
  type MemoryRecord,
  MemorySubject,
  reservationOf,
} from './memory-budget.subject.js';
import { reserveInMemory } from './memory-budget.reserve.js';
import { type ScopeLevels, reserveScoped, settleScoped } from './budget.scope.js';

/**
 * The decision engine in process: embedded mode (one instance), and the local fallback while
 * Redis is unreachable. Same behaviour as RedisBudgetStore; every decision runs synchronously
 * after the only await (the ledger read that seeds a day counter), so it is atomic here too.
 */
export class MemoryBudgetStore extends BudgetStore {
  readonly mode = 'memory' as const;
  private readonly subjects = new Map<string, MemorySubject>();

  constructor(
    private readonly dailyCost: DailyCostSource,
    private readonly clock: () => number = Date.now,
  ) {
    super();
  }

  reserve(req: ReserveRequest): Promise<ReserveResult> {
    assertReserveRequest(req);
    return reserveScoped(this.levels, req);
  }

  /** The scope's levels (budget.scope.ts), each one subject of this store. */
  private readonly levels: ScopeLevels = {
    reserveLevel: (req, ref) => this.reserveLevel(req, ref),
    cancelLevel: (subject, ref, idempotencyKey) => this.cancelLevel(subject, ref, idempotencyKey),
    settleLevel: (subject, ref, status, usage) => {
      const s = this.subjects.get(subject);
      const record = s?.records.get(ref);
      if (s && record?.status === 'held') {
        s.settle(record, status, charge(record, usage), usage === null, this.clock(), 0);
      }
      return Promise.resolve();
    },
  };

  private async cancelLevel(
    subject: string,
    ref: string,
    idempotencyKey?: string,
  ): Promise<LimitsState | null> {
    const s = this.subjects.get(subject);
    const record = s?.records.get(ref);
    if (!s || record?.status !== 'held') {
      return null;
    }
    if (idempotencyKey !== undefined && s.idempotency.get(idempotencyKey)?.ref === ref) {
      s.idempotency.delete(idempotencyKey);
    }
    const now = this.clock();
    record.level = true;
    s.settle(record, 'refunded', charge(record, null), true, now, 0);
    s.records.delete(ref);
    return this.settledState(s, record.model, now);
  }

  private async reserveLevel(req: ReserveRequest, levelRef?: string): Promise<ReserveResult> {
    const { limits } = req;
    // At most: a day seed, a month seed, one more of each if a UTC boundary passed in between.
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = this.subject(req.subject);
      const today = epochDay(this.clock());
      if (limits.dailyCostMicros !== null && s.day !== today) {
        const seeded = await this.committedFromSource(req.subject, today);
        // Looked up again: a sweep may have pruned the (still empty) subject while we awaited.
        const current = this.subject(req.subject);
        // Set only if still missing: a concurrent seed or commit is never undone.
        if (current.day !== today && epochDay(this.clock()) === today) {
          current.day = today;
          current.dayCostMicros = seeded;
        }
        continue;
      }
      const month = epochMonth(this.clock());
      if ((limits.monthlyCostMicros ?? null) !== null && s.month !== month) {
        const seeded = await this.monthFromSource(req.subject, month);
        const current = this.subject(req.subject);
        if (current.month !== month && epochMonth(this.clock()) === month) {
          current.month = month;
          current.monthCostMicros = seeded;
        }
        continue;
      }
      return reserveInMemory(req, s, this.clock(), levelRef);
    }
    throw new Error(`The daily cost of ${req.subject} could not be seeded from the ledger`);
  }

  async commit(
    reservationId: string,
    usage: Usage,
    ancestors: readonly string[] = [],
  ): Promise<SettleResult> {
    assertUsage(usage);
    const own = await this.settleRequest(reservationId, 'committed', usage);
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
    const own = await this.settleRequest(reservationId, 'refunded', usage);
    return settleScoped(this.levels, own, reservationId, ancestors, 'refunded', usage);
  }

  expireDue(policy: ExpiryPolicy, max = 1_000, all = false): Promise<Settlement[]> {
    const now = this.clock();
    const settled: Settlement[] = [];
    for (const [subject, s] of this.subjects) {
      const due = [...s.leases]
        .filter(([, expiresAt]) => all || expiresAt <= now)
        .sort((a, b) => a[1] - b[1]);
      for (const [ref] of due) {
        if (settled.length >= max) {
          return Promise.resolve(settled);
        }
        const record = s.records.get(ref);
        if (record?.status !== 'held') {
          s.leases.delete(ref);
          continue;
        }
        if (record.level) {
          // An ancestor's share expires with the same policy as the subject's own, unledgered.
          s.settle(record, 'expired', expiryCharge(record, policy), policy === 'release', now, 0);
          continue;
        }
        settled.push(
          s.settle(
            record,
            'expired',
            expiryCharge(record, policy),
            policy === 'release',
            now,
            UNCONFIRMED_RETENTION_MS,
          ),
        );
      }
      if (s.prune(now)) {
        this.subjects.delete(subject);
      }
    }
    return Promise.resolve(settled);
  }

  /** Shutdown: every held reservation, due or not, settled by the expiry policy (SPEC §7). */
  override settleInProcess(policy: ExpiryPolicy): Promise<Settlement[]> {
    return this.expireDue(policy, Number.MAX_SAFE_INTEGER, true);
  }

  /**
   * What this process alone knows and the ledger may not have yet: every held reservation (the
   * subjects' own and their ancestors' shares) and every settlement the ledger has not confirmed.
   * Copies, safe to serialize (embedded mode keeps them across a restart, SPEC §7).
   */
  unledgered(): MemoryRecord[] {
    const out: MemoryRecord[] = [];
    for (const s of this.subjects.values()) {
      for (const record of s.records.values()) {
        if (record.status === 'held' || s.pending.has(record.ref)) {
          out.push(structuredClone(record));
        }
      }
    }
    return out;
  }

  /**
   * Takes back what unledgered() gave, in a new process: a held reservation holds its lease and
   * its in-flight cost again until it is settled or expires; an unconfirmed settlement is offered
   * to the ledger again. A reservation this store already holds is left as it is.
   */
  restore(records: readonly MemoryRecord[]): void {
    for (const record of records) {
      const s = this.subject(record.subject);
      if (s.records.has(record.ref)) {
        continue;
      }
      s.records.set(record.ref, structuredClone(record));
      if (record.status === 'held') {
        s.leases.set(record.ref, record.expiresAtMs);
        s.inFlightMicros += record.costMicros;
      } else if (record.settlement && !record.level) {
        s.pending.set(record.ref, record.settlement.settledAtMs);
      }
    }
  }

  /**
   * Every idempotency key still answering (SPEC §4: a day), with its subject: copies, safe to
   * serialize, so that a check retried after an embedded restart is not reserved again.
   */
  idempotencyEntries(): MemoryIdempotencyEntry[] {
    const now = this.clock();
    const out: MemoryIdempotencyEntry[] = [];
    for (const s of this.subjects.values()) {
      for (const [key, entry] of s.idempotency) {
        if (entry.expiresAtMs > now) {
          out.push({ subject: s.subject, key, ...structuredClone(entry) });
        }
      }
    }
    return out;
  }

  /** Takes back what idempotencyEntries() gave; an expired one, or a key already known, is not. */
  restoreIdempotency(entries: readonly MemoryIdempotencyEntry[]): void {
    const now = this.clock();
    for (const { subject, key, ...entry } of entries) {
      if (entry.expiresAtMs <= now) {
        continue;
      }
      const s = this.subject(subject);
      if (!s.idempotency.has(key)) {
        s.idempotency.set(key, structuredClone(entry));
      }
    }
  }

  pendingLedger(olderThanMs: number, max = 1_000): Promise<Settlement[]> {
    const cutoff = this.clock() - olderThanMs;
    const found: Settlement[] = [];
    for (const s of this.subjects.values()) {
      for (const [ref, settledAt] of s.pending) {
        const settlement = s.records.get(ref)?.settlement;
        if (settledAt <= cutoff && settlement && found.length < max) {
          found.push(settlement);
        }
      }
    }
    return Promise.resolve(found);
  }

  confirmLedgered(settlements: Settlement[]): Promise<void> {
    for (const settlement of settlements) {
      const parsed = parseReservationId(settlement.reservationId);
      const s = parsed && this.subjects.get(parsed.subject);
      const record = parsed && s?.records.get(parsed.ref);
      if (s && record?.settlement) {
        s.pending.delete(record.ref);
        record.keepUntilMs = record.settlement.settledAtMs + SETTLED_RETENTION_MS;
      }
    }
    return Promise.resolve();
  }

  find(reservationId: string): Promise<Reservation | null> {
    const found = this.locate(reservationId);
    return Promise.resolve(found?.record ? reservationOf(found.record) : null);
  }

  async usage(
    subject: string,
    limits: Limits,
  ): Promise<{ state: LimitsState; inFlight: Reservation[] }> {
    const now = this.clock();
    const s = this.subjects.get(subject) ?? new MemorySubject(subject);
    const view = (dim: string, limit: BucketLimit | null): BucketView | undefined =>
      limit
        ? viewBucket(s.buckets.get(dim), limit.capacity, limit.perMinute, now, limit.changes)
        : undefined;
    const raw: RawLimits = {
      requests: view('rq', limits.requests),
      tokens: view('tk', limits.tokens),
    };
    if (limits.concurrent !== null) {
      raw.concurrent = { limit: limits.concurrent, active: s.activeLeases(now).active };
    }
    if (limits.dailyCostMicros !== null) {
      const today = epochDay(now);
      const committed =
        s.day === today ? s.dayCostMicros : await this.committedFromSource(subject, today);
      raw.dailyCost = {
        limitMicros: limits.dailyCostMicros,
        usedMicros: committed + s.inFlightMicros,
      };
    }
    const monthly = limits.monthlyCostMicros ?? null;
    if (monthly !== null) {
      raw.monthlyCost = {
        limitMicros: monthly,
        usedMicros: (await this.monthCommitted(s, now)) + s.inFlightMicros,
      };
    }
    const inFlight = [...s.leases]
      .sort((a, b) => a[1] - b[1])
      .flatMap(([ref]) => {
        const record = s.records.get(ref);
        return record ? [reservationOf(record)] : [];
      });
    return { state: limitsState(raw, now), inFlight };
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async settleRequest(
    reservationId: string,
    status: 'committed' | 'refunded',
    usage: Usage | null,
  ): Promise<SettleResult> {
    const found = this.locate(reservationId);
    if (!found?.record) {
      return { ok: false, error: 'not_found' };
    }
    const { s, record } = found;
    const now = this.clock();
    let replayed = false;
    if (record.status === 'held') {
      s.settle(
        record,
        status,
        charge(record, usage),
        usage === null,
        now,
        UNCONFIRMED_RETENTION_MS,
      );
    } else if (record.status === status) {
      replayed = true;
    } else {
      return { ok: false, error: 'conflict', status: record.status };
    }
    return {
      ok: true,
      settlement: record.settlement!,
      state: await this.settledState(s, record.model, now),
      replayed,
    };
  }

  /** The subject's figures after a settlement, under the limits its last reserve stored. */
  private async settledState(s: MemorySubject, model: string, now: number): Promise<LimitsState> {
    const raw: RawLimits = {
      requests: s.storedView('rq', now),
      tokens: s.storedView('tk', now),
      modelRequests: s.storedView(`mr|${model}`, now),
      modelTokens: s.storedView(`mt|${model}`, now),
    };
    if (s.concurrentLimit !== null) {
      raw.concurrent = { limit: s.concurrentLimit, active: s.activeLeases(now).active };
    }
    if (s.dailyLimitMicros !== null) {
      const today = epochDay(now);
      const committed =
        s.day === today ? s.dayCostMicros : await this.committedFromSource(s.subject, today);
      raw.dailyCost = { limitMicros: s.dailyLimitMicros, usedMicros: committed + s.inFlightMicros };
    }
    if (s.monthlyLimitMicros !== null) {
      raw.monthlyCost = {
        limitMicros: s.monthlyLimitMicros,
        usedMicros: (await this.monthCommitted(s, now)) + s.inFlightMicros,
      };
    }
    return limitsState(raw, now);
  }

  private locate(
    reservationId: string,
  ): { s: MemorySubject; record: MemoryRecord | undefined } | null {
    const parsed = parseReservationId(reservationId);
    const s = parsed && this.subjects.get(parsed.subject);
    if (!parsed || !s) {
      return null;
    }
    const record = s.records.get(parsed.ref);
    // Forgotten after its retention, as the Redis record's TTL would.
    return { s, record: record && record.keepUntilMs > this.clock() ? record : undefined };
  }

  private subject(subject: string): MemorySubject {
    let s = this.subjects.get(subject);
    if (!s) {
      s = new MemorySubject(subject);
      this.subjects.set(subject, s);
    }
    return s;
  }

  private async monthCommitted(s: MemorySubject, now: number): Promise<number> {
    const month = epochMonth(now);
    return s.month === month ? s.monthCostMicros : this.monthFromSource(s.subject, month);
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
    return Math.ceil(value);
  }
}

/** What a settlement to `usage` charges (null: everything released, at zero cost). */
function charge(
  record: MemoryRecord,
  usage: Usage | null,
): { promptTokens: number; completionTokens: number; cachedTokens: number; costMicros: number } {
  if (usage === null) {
    return { promptTokens: 0, completionTokens: 0, cachedTokens: 0, costMicros: 0 };
  }
  const cachedTokens = usage.cachedTokens ?? 0;
  return {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    cachedTokens,
    costMicros: costMicros(
      usage.promptTokens,
      usage.completionTokens,
      record.pricing,
      cachedTokens,
    ),
  };
}

/** An expired reservation is charged at its estimate, or released, by the policy. */
function expiryCharge(
  record: MemoryRecord,
  policy: ExpiryPolicy,
): { promptTokens: number; completionTokens: number; cachedTokens: number; costMicros: number } {
  return policy === 'charge'
    ? {
        promptTokens: record.promptTokens,
        completionTokens: record.completionTokens,
        cachedTokens: 0,
        costMicros: record.costMicros,
      }
    : { promptTokens: 0, completionTokens: 0, cachedTokens: 0, costMicros: 0 };
}
