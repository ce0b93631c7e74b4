import { decideReserve } from './budget.decision.js';
import { newRef } from './budget.keys.js';
import { IdempotencyKeyReusedError } from '#kernel';
import { IDEMPOTENCY_RETENTION_MS, SETTLED_RETENTION_MS } from './budget.store.js';
import type { BucketLimit, LimitsState, ReserveRequest, ReserveResult } from './budget.types.js';
import { type RawLimits, limitsState, viewBucket } from './bucket.math.js';
import { type MemoryRecord, type MemorySubject, reservationOf } from './memory-budget.subject.js';

/**
 * The synchronous half of MemoryBudgetStore.reserve(): read, decide (the same pure decision
 * reserve.lua mirrors), write — with no await in between, so it is atomic in one process.
 */
export function reserveInMemory(
  req: ReserveRequest,
  s: MemorySubject,
  now: number,
  levelRef?: string,
): ReserveResult {
  const { limits, pricing, model } = req;
  const monthly = limits.monthlyCostMicros ?? null;
  const dims: [string, BucketLimit | null][] = [
    ['rq', limits.requests],
    ['tk', limits.tokens],
    [`mr|${model}`, limits.modelRequests],
    [`mt|${model}`, limits.modelTokens],
  ];
  const views = dims.map(([dim, limit]) =>
    limit
      ? viewBucket(s.buckets.get(dim), limit.capacity, limit.perMinute, now, limit.changes)
      : undefined,
  );
  const state = (): LimitsState => {
    const raw: RawLimits = {
      requests: views[0],
      tokens: views[1],
      modelRequests: views[2],
      modelTokens: views[3],
    };
    if (limits.concurrent !== null) {
      raw.concurrent = { limit: limits.concurrent, active: s.activeLeases(now).active };
    }
    if (limits.dailyCostMicros !== null) {
      raw.dailyCost = {
        limitMicros: limits.dailyCostMicros,
        usedMicros: s.dayCostMicros + s.inFlightMicros,
      };
    }
    if (monthly !== null) {
      raw.monthlyCost = { limitMicros: monthly, usedMicros: s.monthCostMicros + s.inFlightMicros };
    }
    return limitsState(raw, now);
  };

  // A retried check answers the reservation its key made, settled or not (SPEC §4).
  const idem = req.idempotencyKey === undefined ? undefined : s.idempotency.get(req.idempotencyKey);
  if (idem && idem.expiresAtMs > now) {
    if (idem.fingerprint !== (req.idempotencyFingerprint ?? '')) {
      throw new IdempotencyKeyReusedError();
    }
    return { allowed: true, reservation: { ...idem.reservation }, state: state(), replayed: true };
  }

  const decision = decideReserve({
    now,
    promptTokens: req.promptTokens,
    completionTokens: req.completionTokens,
    minCompletionTokens: req.minCompletionTokens,
    pricing,
    requests: views[0],
    tokens: views[1],
    modelRequests: views[2],
    modelTokens: views[3],
    concurrent:
      limits.concurrent === null ? undefined : { limit: limits.concurrent, ...s.activeLeases(now) },
    dailyCost:
      limits.dailyCostMicros === null
        ? undefined
        : { limitMicros: limits.dailyCostMicros, usedMicros: s.dayCostMicros + s.inFlightMicros },
    monthlyCost:
      monthly === null
        ? undefined
        : { limitMicros: monthly, usedMicros: s.monthCostMicros + s.inFlightMicros },
  });
  if (!decision.allowed) {
    // A limit edited since the bucket was written takes hold now, even on a refusal: the clamp
    // of a shrink is kept, and a raised rate refills from now on (SPEC §3).
    dims.forEach(([dim], i) => {
      const view = views[i];
      const stored = s.buckets.get(dim);
      const edited = dims[i]![1]?.changes?.some((change) => change.atMs > (stored?.t ?? now));
      if (
        view &&
        stored &&
        (stored.cap !== view.cap || stored.perMinute !== view.perMinute || edited)
      ) {
        s.writeBucket(dim, view, now);
      }
    });
    return { ...decision, state: state() };
  }

  const charges = [
    1,
    req.promptTokens + decision.completionTokens,
    1,
    req.promptTokens + decision.completionTokens,
  ];
  dims.forEach(([dim], i) => {
    const view = views[i];
    if (view) {
      view.level -= charges[i]!;
      s.writeBucket(dim, view, now);
    } else {
      s.buckets.delete(dim);
    }
  });
  const record: MemoryRecord = {
    ref: levelRef ?? newRef(),
    subject: req.subject,
    tier: req.tier,
    model,
    promptTokens: req.promptTokens,
    completionTokens: decision.completionTokens,
    costMicros: decision.costMicros,
    pricing: { ...pricing },
    reservedAtMs: now,
    expiresAtMs: now + req.ttlSeconds * 1000,
    status: 'held',
    keepUntilMs: now + req.ttlSeconds * 1000 + SETTLED_RETENTION_MS,
    ...(levelRef === undefined ? {} : { level: true }),
    ...(req.caller ? { caller: req.caller } : {}),
  };
  s.records.set(record.ref, record);
  s.leases.set(record.ref, record.expiresAtMs);
  s.inFlightMicros += record.costMicros;
  s.concurrentLimit = limits.concurrent;
  s.dailyLimitMicros = limits.dailyCostMicros;
  s.monthlyLimitMicros = monthly;
  const reservation = reservationOf(record);
  if (req.idempotencyKey !== undefined) {
    s.idempotency.set(req.idempotencyKey, {
      ref: record.ref,
      reservation: { ...reservation },
      fingerprint: req.idempotencyFingerprint ?? '',
      expiresAtMs: now + Math.max(IDEMPOTENCY_RETENTION_MS, req.ttlSeconds * 1000),
    });
  }
  return { allowed: true, reservation, state: state(), replayed: false };
}
