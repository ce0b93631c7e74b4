import type { Dimension, Reservation, SettlementStatus, Settlement } from './budget.types.js';
import type { BucketView, RawLimits, StoredBucket } from './bucket.math.js';
import { reservationId } from './budget.keys.js';

/**
 * Turns the compact arrays the scripts answer into the engine's types. Layouts (see the .lua
 * files): a state block is 4 buckets × (level, cap, perMinute), concurrent (limit, active), daily
 * (limit, committed today, in flight), monthly (limit, committed this month, in flight); ''
 * marks an unlimited dimension.
 */

export const STATE_WIDTH = 20;

/** A cost limit in a state block: its committed figure is null when the counter is missing. */
export interface CostFigures {
  limitMicros: number;
  committedMicros: number | null;
  inFlightMicros: number;
}

function costAt(reply: Reply, i: number): CostFigures | undefined {
  if (str(reply, i) === '') {
    return undefined;
  }
  const committed = str(reply, i + 1);
  return {
    limitMicros: n(reply, i),
    committedMicros: committed === '' ? null : Number(committed),
    inFlightMicros: n(reply, i + 2),
  };
}

export type Reply = (string | number | Reply)[];

export function asReply(value: unknown): Reply {
  if (!Array.isArray(value)) {
    throw new Error(`Unexpected reply from a budget script: ${JSON.stringify(value)}`);
  }
  return value as Reply;
}

function str(reply: Reply, i: number): string {
  const value = reply[i];
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  throw new Error(`Unexpected field ${i} in a budget script reply: ${JSON.stringify(value)}`);
}

function n(reply: Reply, i: number): number {
  return Number(str(reply, i));
}

function bucketAt(reply: Reply, i: number): BucketView | undefined {
  return str(reply, i) === ''
    ? undefined
    : { level: n(reply, i), cap: n(reply, i + 1), perMinute: n(reply, i + 2) };
}

/** The state block at `i`; `committedMicros` is null when the day or month counter is missing. */
export function rawStateAt(
  reply: Reply,
  i: number,
): { raw: RawLimits; daily?: CostFigures; monthly?: CostFigures } {
  const raw: RawLimits = {
    requests: bucketAt(reply, i),
    tokens: bucketAt(reply, i + 3),
    modelRequests: bucketAt(reply, i + 6),
    modelTokens: bucketAt(reply, i + 9),
  };
  if (str(reply, i + 12) !== '') {
    raw.concurrent = { limit: n(reply, i + 12), active: n(reply, i + 13) };
  }
  return { raw, daily: costAt(reply, i + 14), monthly: costAt(reply, i + 17) };
}

/**
 * `ok` reserve reply fields 2..12: ref, tier, model, p, c, cost, in, out, at, exp. The id also
 * signs the cached-input price, which the reply does not carry: the request's.
 */
export function reservationAt(reply: Reply, subject: string, cachedPrice: number): Reservation {
  const pricing = { inputPicosPerToken: n(reply, 8), outputPicosPerToken: n(reply, 9) };
  const reservation: Reservation = {
    reservationId: '',
    subject,
    tier: str(reply, 3),
    model: str(reply, 4),
    promptTokens: n(reply, 5),
    completionTokens: n(reply, 6),
    costMicros: n(reply, 7),
    pricing,
    reservedAtMs: n(reply, 10),
    expiresAtMs: n(reply, 11),
  };
  // The id signs the reservation's own fields; only ref and the signed pricing are added.
  reservation.reservationId = reservationId({
    ...reservation,
    ref: str(reply, 2),
    pricing: { ...pricing, cachedInputPicosPerToken: cachedPrice },
  });
  return reservation;
}

/** Fields of a settlement reply (lib-settle.lua settlement_reply). */
export const SETTLEMENT_WIDTH = 19;

/**
 * A settlement: ref, subject, tier, model, prompt, completion, cost, status, at, settled at,
 * reserved tokens, cached prompt tokens; then what the id signs: the reserved prompt and
 * completion, the input, output and cached-input prices, the expiry; last the caller.
 */
export function settlementOf(reply: Reply): Settlement {
  const subject = str(reply, 1);
  const caller = str(reply, 18);
  return {
    reservationId: reservationId({
      subject,
      ref: str(reply, 0),
      tier: str(reply, 2),
      model: str(reply, 3),
      promptTokens: n(reply, 12),
      completionTokens: n(reply, 13),
      pricing: {
        inputPicosPerToken: n(reply, 14),
        outputPicosPerToken: n(reply, 15),
        cachedInputPicosPerToken: n(reply, 16),
      },
      reservedAtMs: n(reply, 8),
      expiresAtMs: n(reply, 17),
    }),
    subject,
    tier: str(reply, 2),
    model: str(reply, 3),
    promptTokens: n(reply, 4),
    completionTokens: n(reply, 5),
    cachedTokens: n(reply, 11),
    costMicros: n(reply, 6),
    status: str(reply, 7) as SettlementStatus,
    reservedAtMs: n(reply, 8),
    settledAtMs: n(reply, 9),
    reservedTokens: n(reply, 10),
    ...(caller === '' ? {} : { caller }),
  };
}

export function dimensionAt(reply: Reply, i: number): Dimension {
  return str(reply, i) as Dimension;
}

export { n as numberAt, str as stringAt };

/** A bucket as HMGET'd by usage.lua (level, at, capacity, perMinute), or undefined. */
export function storedBucketAt(reply: Reply, i: number): StoredBucket | undefined {
  return str(reply, i) === ''
    ? undefined
    : { level: n(reply, i), t: n(reply, i + 1), cap: n(reply, i + 2), perMinute: n(reply, i + 3) };
}

/** A reservation record (HGETALL of `:r:<ref>`), or null when it is gone. */
export function reservationOfRecord(
  ref: string,
  record: Record<string, string>,
): { reservation: Reservation; settlement: Settlement | null } | null {
  if (record.sub === undefined) {
    return null;
  }
  const subject = record.sub;
  const fields = {
    subject,
    tier: record.tier ?? '',
    model: record.model ?? '',
    promptTokens: Number(record.p),
    completionTokens: Number(record.c),
    costMicros: Number(record.cost),
    // The cached-input price (cin) stays in the record: only settling uses it.
    pricing: { inputPicosPerToken: Number(record.in), outputPicosPerToken: Number(record.out) },
    reservedAtMs: Number(record.at),
    expiresAtMs: Number(record.exp),
  };
  const signed = {
    ...fields.pricing,
    cachedInputPicosPerToken: Number(record.cin ?? record.in),
  };
  const reservation: Reservation = {
    reservationId: reservationId({ ...fields, ref, pricing: signed }),
    ...fields,
  };
  const settlement: Settlement | null =
    record.st === 'held' || record.st === undefined
      ? null
      : {
          reservationId: reservation.reservationId,
          subject,
          tier: reservation.tier,
          model: reservation.model,
          promptTokens: Number(record.sp),
          completionTokens: Number(record.sc),
          cachedTokens: Number(record.sk ?? '0'),
          costMicros: Number(record.scost),
          status: record.st as SettlementStatus,
          reservedAtMs: reservation.reservedAtMs,
          settledAtMs: Number(record.sat),
          reservedTokens: reservation.promptTokens + reservation.completionTokens,
          ...(record.who ? { caller: record.who } : {}),
        };
  return { reservation, settlement };
}
