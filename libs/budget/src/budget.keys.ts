import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RecentMap } from '#kernel';
import type { Pricing } from './budget.types.js';

/**
 * Reservation ids and the Redis key layout.
 *
 * A reservation id is `base64url(subject).ref`: commit and refund find every key of the subject
 * from the id alone, with no lookup. Subjects fall into GROUPS groups by a hash of the subject;
 * every key carries its group's hash tag `{g<n>}`, so a subject's keys and its group's index
 * share one Cluster slot and every script touches one slot:
 *
 *   <prefix>{g<n>}:{<tag>}:b          hash  token buckets: l|t|c|r (level, at, capacity,
 *                                           perMinute) per dimension rq, tk, mr|<model>,
 *                                           mt|<model>; x (expiry horizon, lib-buckets.lua)
 *   <prefix>{g<n>}:{<tag>}:s          hash  icost (in-flight micros), day + dcost (committed
 *                                           micros of that UTC day), mon + mcost (of that
 *                                           month), cl / dl / ml (last concurrent / daily /
 *                                           monthly limits), x (expiry horizon)
 *   <prefix>{g<n>}:{<tag>}:lease      zset  ref → expiresAt of every unsettled reservation
 *   <prefix>{g<n>}:{<tag>}:pend       zset  ref → settledAt of settlements the ledger has not
 *                                           confirmed
 *   <prefix>{g<n>}:{<tag>}:r:<ref>    hash  the reservation and, once settled, its settlement
 *   <prefix>{g<n>}:{<tag>}:i:<sha>    hash  idempotency key → the reservation it made
 *   <prefix>{g<n>}::due               zset  tag → earliest expiry among the subject's leases
 *   <prefix>{g<n>}::unconfirmed       zset  tag → oldest settledAt in the subject's :pend
 *
 * The two index zsets let the sweeps read G keys per pass instead of walking the keyspace: the
 * scripts keep them in step with :lease and :pend atomically. They carry no TTL (one could drop
 * live entries): an index key exists only while it has members, and each member is visited by
 * a sweep once its score passes, which refreshes it or removes it.
 *
 * Only the first `{...}` of a key is its hash tag, so the braces around `<tag>` just delimit it
 * (tags never contain braces). After `{g<n>}:` a subject's key continues with `{` and an index
 * key with `:`, so no subject key can equal an index key, and the closing brace keeps two
 * subjects' keys apart whatever their tags contain.
 */

const REF = /^[A-Za-z0-9_-]{22}$/;

const REF_BYTES = 16;
/** Random bytes are drawn 256 refs at a time: one call into the CSPRNG per 256 reservations. */
const POOL_BYTES = REF_BYTES * 256;
let pool = Buffer.alloc(0);
let used = 0;

/** 128 random bits, base64url: 22 characters. */
export function newRef(): string {
  if (used + REF_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  used += REF_BYTES;
  return pool.toString('base64url', used - REF_BYTES, used);
}

/**
 * What a reservation id carries besides its subject and ref: all that settling needs when the
 * store lost the reservation (Redis restarted empty, a failover that lost writes — SPEC §7).
 */
export interface ReservationClaims {
  subject: string;
  ref: string;
  tier: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  pricing: Pricing;
  reservedAtMs: number;
  expiresAtMs: number;
}

/**
 * RESERVATION_SIGNING_KEY. The embedded default lets one instance (and tests) run unconfigured;
 * instances sharing a store must share a key, and production sets its own.
 */
export const DEFAULT_RESERVATION_SIGNING_KEY = 'token-budget-embedded-reservation-signing-key';

const SIG_BYTES = 16;
const BLOCK = 64; // SHA-256's block size

/**
 * HMAC-SHA256 (RFC 2104) from two one-shot hashes over key pads prepared once per key: the same
 * bytes as createHmac(), without an Hmac object and its key setup per id (every check signs
 * one, every commit verifies one).
 */
function pads(key: string): { inner: Buffer; outer: Buffer } {
  let raw = Buffer.from(key, 'utf8');
  if (raw.length > BLOCK) {
    raw = createHash('sha256').update(raw).digest();
  }
  const block = Buffer.alloc(BLOCK);
  raw.copy(block);
  return {
    inner: Buffer.from(block.map((byte) => byte ^ 0x36)),
    outer: Buffer.from(block.map((byte) => byte ^ 0x5c)),
  };
}

let signing = pads(DEFAULT_RESERVATION_SIGNING_KEY);

export function setReservationSigningKey(key: string): void {
  signing = pads(key);
  verified.clear();
}

export function sign(body: string): Buffer {
  const inner = hash('sha256', Buffer.concat([signing.inner, Buffer.from(body, 'utf8')]), 'buffer');
  return hash('sha256', Buffer.concat([signing.outer, inner]), 'buffer').subarray(0, SIG_BYTES);
}

/**
 * `base64url(subject).base64url(claims).sig.ref`: the subject and the ref locate the store's
 * keys with no lookup; the claims (tier, model, estimate, pricing, reserved and expiry times)
 * let a commit or refund be settled into the ledger even when the store forgot the reservation;
 * sig (HMAC-SHA256 with RESERVATION_SIGNING_KEY, 128 bits) makes all of it unforgeable.
 */
export function reservationId(c: ReservationClaims): string {
  const subject = Buffer.from(c.subject, 'utf8').toString('base64url');
  const claims = Buffer.from(
    JSON.stringify([
      c.tier,
      c.model,
      c.promptTokens,
      c.completionTokens,
      c.pricing.inputPicosPerToken,
      c.pricing.outputPicosPerToken,
      c.pricing.cachedInputPicosPerToken ?? c.pricing.inputPicosPerToken,
      c.reservedAtMs,
      c.expiresAtMs,
    ]),
    'utf8',
  ).toString('base64url');
  const body = `${subject}.${claims}.${c.ref}`;
  return `${subject}.${claims}.${sign(body).toString('base64url')}.${c.ref}`;
}

const B64 = /^[A-Za-z0-9_-]+$/;

/** The subject and ref inside an id, or null for anything this engine never issued. */
export function parseReservationId(id: string): { subject: string; ref: string } | null {
  const claims = reservationClaims(id);
  return claims && { subject: claims.subject, ref: claims.ref };
}

/**
 * Ids verified lately, with their claims: a commit reads its id several times (its ancestors,
 * the store's settlement, the ledger row, the confirmation), and each reading would otherwise
 * compute the HMAC again. Only ids whose signature held are kept, frozen.
 */
const verified = new RecentMap<Readonly<ReservationClaims>>({ entries: 1024 });

/** Everything a signed id carries, or null when it is malformed or its signature is wrong. */
export function reservationClaims(id: string): Readonly<ReservationClaims> | null {
  const known = verified.get(id);
  if (known !== undefined) {
    return known;
  }
  const claims = verifyReservationId(id);
  if (claims !== null) {
    verified.set(id, claims);
  }
  return claims;
}

function verifyReservationId(id: string): Readonly<ReservationClaims> | null {
  const parts = id.split('.');
  if (parts.length !== 4) {
    return null;
  }
  const [encoded, claims, sig, ref] = parts as [string, string, string, string];
  if (!REF.test(ref) || !B64.test(encoded) || !B64.test(claims) || !B64.test(sig)) {
    return null;
  }
  // Compared as text: only the canonical encoding of the signature is accepted.
  const given = Buffer.from(sig, 'utf8');
  const expected = Buffer.from(sign(`${encoded}.${claims}.${ref}`).toString('base64url'), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return null;
  }
  const subject = Buffer.from(encoded, 'base64url').toString('utf8');
  // Only the canonical encoding round-trips: refuses padding tricks and invalid UTF-8.
  if (Buffer.from(subject, 'utf8').toString('base64url') !== encoded) {
    return null;
  }
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 9) {
    return null;
  }
  const [tier, model, p, c, inp, out, cin, at, exp] = fields as unknown[];
  const counts = [p, c, inp, out, cin, at, exp];
  if (
    typeof tier !== 'string' ||
    typeof model !== 'string' ||
    !counts.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)
  ) {
    return null;
  }
  return Object.freeze({
    subject,
    ref,
    tier,
    model,
    promptTokens: p as number,
    completionTokens: c as number,
    pricing: Object.freeze({
      inputPicosPerToken: inp as number,
      outputPicosPerToken: out as number,
      cachedInputPicosPerToken: cin as number,
    }),
    reservedAtMs: at as number,
    expiresAtMs: exp as number,
  });
}

/**
 * The subject itself where it is a safe tag (readable keys), else `~` + base64url. Keys delimit
 * the tag with braces, so a brace inside would end it early (and could make one subject's keys
 * look like another's); plain tags never start with `~`, so the two forms cannot collide.
 */
export function subjectTag(subject: string): string {
  return /[{}]/.test(subject) || subject.startsWith('~')
    ? `~${Buffer.from(subject, 'utf8').toString('base64url')}`
    : subject;
}

/** Subject groups. Part of the key layout: changing it moves every subject's keys. */
export const GROUPS = 1024;

/** The subject's group: the first two bytes of sha1(subject), mod GROUPS. Stable everywhere. */
export function subjectGroup(subject: string): number {
  return createHash('sha1').update(subject, 'utf8').digest().readUInt16BE(0) % GROUPS;
}

/** The index keys of one group, and the keys of its subjects. */
export class GroupKeys {
  /** `<prefix>{g<n>}`: the hash tag every key of the group carries. */
  readonly base: string;
  /** zset: subject tag → earliest expiry among its leases. */
  readonly due: string;
  /** zset: subject tag → oldest settlement the ledger has not confirmed. */
  readonly unconfirmed: string;

  constructor(prefix: string, group: number) {
    this.base = `${prefix}{g${group}}`;
    this.due = `${this.base}::due`;
    this.unconfirmed = `${this.base}::unconfirmed`;
  }

  /** Every group under a prefix, in order: what a sweep reads. */
  static all(prefix: string): GroupKeys[] {
    return Array.from({ length: GROUPS }, (_, group) => new GroupKeys(prefix, group));
  }

  /** The keys of the subject whose tag (as the index holds it) this is. */
  subject(tag: string): SubjectKeys {
    return new SubjectKeys(this, tag);
  }
}

const subjectKeys = new Map<string, RecentMap<SubjectKeys>>();

export class SubjectKeys {
  /** `<prefix>{g<n>}:{<tag>}`. */
  readonly base: string;
  readonly buckets: string;
  readonly state: string;
  readonly leases: string;
  readonly pending: string;

  /** `tag` is the subject's subjectTag(): its member in the group's index zsets. */
  constructor(
    readonly group: GroupKeys,
    readonly tag: string,
  ) {
    this.base = `${group.base}:{${tag}}`;
    this.buckets = `${this.base}:b`;
    this.state = `${this.base}:s`;
    this.leases = `${this.base}:lease`;
    this.pending = `${this.base}:pend`;
  }

  /** Remembered per prefix for the subjects seen lately: a sha1 and seven strings per check less. */
  static of(prefix: string, subject: string): SubjectKeys {
    let recent = subjectKeys.get(prefix);
    if (recent === undefined) {
      recent = new RecentMap<SubjectKeys>({ entries: 4096 });
      subjectKeys.set(prefix, recent);
    }
    let keys = recent.get(subject);
    if (keys === undefined) {
      keys = new SubjectKeys(new GroupKeys(prefix, subjectGroup(subject)), subjectTag(subject));
      recent.set(subject, keys);
    }
    return keys;
  }

  /**
   * KEYS[1..6] of the settling scripts (commit, refund, expire): the subject's state, its
   * pending ledger, and the group's two indexes; the record keys follow.
   */
  settlementKeys(): string[] {
    return [
      this.buckets,
      this.state,
      this.leases,
      this.pending,
      this.group.due,
      this.group.unconfirmed,
    ];
  }

  /** The key of one reservation record; record('') is the start of all of them. */
  record(ref: string): string {
    return `${this.base}:r:${ref}`;
  }

  /** Hashed: any caller-chosen string gives a short key that cannot mimic another key. */
  idempotency(key: string): string {
    return `${this.base}:i:${createHash('sha256').update(key).digest('base64url')}`;
  }
}
