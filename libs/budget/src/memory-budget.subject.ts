import { epochDay, epochMonth } from '#kernel';
import type { Pricing, Reservation, Settlement, SettlementStatus } from './budget.types.js';
import { type BucketView, type StoredBucket, refill } from './bucket.math.js';
import { reservationId } from './budget.keys.js';

/**
 * The in-process store's picture of one subject: the same fields as the Redis layout
 * (budget.keys.ts), and the settlement step shared by commit, refund and expiry — the
 * TypeScript twin of `settle` in scripts/lib-settle.lua.
 */

export interface MemoryRecord {
  ref: string;
  subject: string;
  tier: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costMicros: number;
  pricing: Pricing;
  reservedAtMs: number;
  expiresAtMs: number;
  status: 'held' | SettlementStatus;
  settlement?: Settlement;
  /** When it is forgotten (the Redis record's TTL). */
  keepUntilMs: number;
  /** An ancestor's share of a scoped reservation: settled like it, never a ledger row. */
  level?: boolean;
  /** The api_clients.name whose key made the check (Redis: the record's `who`). */
  caller?: string;
}

/** What a check's idempotency key made (SPEC §4): its answer, replayed for a day. */
export interface MemoryIdempotency {
  ref: string;
  reservation: Reservation;
  /** The check's body as hashed (check.fingerprint.ts): another body is a 409. */
  fingerprint: string;
  expiresAtMs: number;
}

/** A subject's idempotency entry with its subject and key, as embedded mode keeps it on disk. */
export interface MemoryIdempotencyEntry extends MemoryIdempotency {
  subject: string;
  key: string;
}

export class MemorySubject {
  /** Dimensions rq, tk, mr|<model>, mt|<model>, as in the Redis bucket hash. */
  readonly buckets = new Map<string, StoredBucket>();
  day: number | undefined;
  dayCostMicros = 0;
  /** The epoch month whose committed cost monthCostMicros holds (Redis: mon, mcost). */
  month: number | undefined;
  monthCostMicros = 0;
  inFlightMicros = 0;
  concurrentLimit: number | null = null;
  dailyLimitMicros: number | null = null;
  monthlyLimitMicros: number | null = null;
  /** ref → expiresAt of every unsettled reservation. */
  readonly leases = new Map<string, number>();
  /** ref → settledAt, until the ledger confirms. */
  readonly pending = new Map<string, number>();
  /** Idempotency key → the reservation it made and the check's fingerprint, for a day. */
  readonly idempotency = new Map<string, MemoryIdempotency>();
  readonly records = new Map<string, MemoryRecord>();

  constructor(readonly subject: string) {}

  activeLeases(now: number): { active: number; earliestExpiryMs?: number } {
    let active = 0;
    let earliest: number | undefined;
    for (const expiresAt of this.leases.values()) {
      if (expiresAt > now) {
        active += 1;
        earliest = earliest === undefined ? expiresAt : Math.min(earliest, expiresAt);
      }
    }
    return { active, earliestExpiryMs: earliest };
  }

  /** The stored bucket as it stands now (no new limits applied), or undefined. */
  storedView(dim: string, now: number): BucketView | undefined {
    const stored = this.buckets.get(dim);
    return stored && { level: refill(stored, now), cap: stored.cap, perMinute: stored.perMinute };
  }

  writeBucket(dim: string, view: BucketView, now: number): void {
    this.buckets.set(dim, { level: view.level, t: now, cap: view.cap, perMinute: view.perMinute });
  }

  /** Unused tokens back (or the overage charged, into debt); an absent bucket is unlimited. */
  private adjust(dim: string, delta: number, now: number): void {
    const view = this.storedView(dim, now);
    if (view) {
      const level = view.level + delta;
      this.writeBucket(dim, { ...view, level: level > view.cap ? view.cap : level }, now);
    }
  }

  settle(
    record: MemoryRecord,
    status: SettlementStatus,
    usage: {
      promptTokens: number;
      completionTokens: number;
      cachedTokens: number;
      costMicros: number;
    },
    giveRequestBack: boolean,
    now: number,
    keepMs: number,
  ): Settlement {
    const delta =
      record.promptTokens + record.completionTokens - (usage.promptTokens + usage.completionTokens);
    this.adjust('tk', delta, now);
    this.adjust(`mt|${record.model}`, delta, now);
    if (giveRequestBack) {
      this.adjust('rq', 1, now);
      this.adjust(`mr|${record.model}`, 1, now);
    }
    this.leases.delete(record.ref);
    this.inFlightMicros = Math.max(0, this.inFlightMicros - record.costMicros);
    // Only a counter that exists for today moves: never a partial day from one commit.
    if (usage.costMicros > 0 && this.day === epochDay(now)) {
      this.dayCostMicros += usage.costMicros;
    }
    if (usage.costMicros > 0 && this.month === epochMonth(now)) {
      this.monthCostMicros += usage.costMicros;
    }
    record.status = status;
    record.settlement = {
      reservationId: reservationId(record),
      subject: record.subject,
      tier: record.tier,
      model: record.model,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      cachedTokens: usage.cachedTokens,
      costMicros: usage.costMicros,
      status,
      reservedAtMs: record.reservedAtMs,
      settledAtMs: now,
      reservedTokens: record.promptTokens + record.completionTokens,
      ...(record.caller ? { caller: record.caller } : {}),
    };
    record.keepUntilMs = now + keepMs;
    if (!record.level) {
      this.pending.set(record.ref, now);
    }
    return record.settlement;
  }

  /** Drops what Redis would have let expire; true when nothing of the subject is left. */
  prune(now: number): boolean {
    for (const [ref, record] of this.records) {
      if (record.keepUntilMs <= now) {
        this.records.delete(ref);
        this.pending.delete(ref);
        this.leases.delete(ref);
      }
    }
    for (const [key, entry] of this.idempotency) {
      if (entry.expiresAtMs <= now) {
        this.idempotency.delete(key);
      }
    }
    for (const [dim, stored] of this.buckets) {
      // A full bucket is the same as an absent one (buckets start full).
      if (this.leases.size === 0 && refill(stored, now) >= stored.cap) {
        this.buckets.delete(dim);
      }
    }
    return (
      this.records.size === 0 &&
      this.buckets.size === 0 &&
      this.idempotency.size === 0 &&
      this.day !== epochDay(now) &&
      this.month !== epochMonth(now) &&
      this.inFlightMicros === 0
    );
  }
}

export function reservationOf(record: MemoryRecord): Reservation {
  return {
    reservationId: reservationId(record),
    subject: record.subject,
    tier: record.tier,
    model: record.model,
    promptTokens: record.promptTokens,
    completionTokens: record.completionTokens,
    costMicros: record.costMicros,
    // As the Redis store: the cached-input price stays in the record, for settling.
    pricing: {
      inputPicosPerToken: record.pricing.inputPicosPerToken,
      outputPicosPerToken: record.pricing.outputPicosPerToken,
    },
    reservedAtMs: record.reservedAtMs,
    expiresAtMs: record.expiresAtMs,
  };
}
