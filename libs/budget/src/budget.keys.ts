import { createHash, randomBytes } from 'node:crypto';

/**
 * Reservation ids and the Redis key layout of one subject.
 *
 * A reservation id is `base64url(subject).ref`: commit and refund find every key of the subject
 * from the id alone, with no lookup. All keys of a subject share the hash tag `{<tag>}`, so every
 * script touches one Cluster slot:
 *
 *   <prefix>{<tag>}:b          hash   token buckets: l|t|c|r (level, at, capacity, perMinute) per
 *                                     dimension rq, tk, mr|<model>, mt|<model>
 *   <prefix>{<tag>}:s          hash   icost (in-flight micros), day + dcost (committed micros of
 *                                     that UTC day), cl / dl (last concurrent / daily limits)
 *   <prefix>{<tag>}:lease      zset   ref → expiresAt of every unsettled reservation
 *   <prefix>{<tag>}:pend       zset   ref → settledAt of settlements the ledger has not confirmed
 *   <prefix>{<tag>}:r:<ref>    hash   the reservation and, once settled, its settlement
 *   <prefix>{<tag>}:i:<sha>    hash   idempotency key → the reservation it made
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

export function reservationId(subject: string, ref: string): string {
  return `${Buffer.from(subject, 'utf8').toString('base64url')}.${ref}`;
}

/** The subject and ref inside an id, or null for anything this engine never issued. */
export function parseReservationId(id: string): { subject: string; ref: string } | null {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) {
    return null;
  }
  const encoded = id.slice(0, dot);
  const ref = id.slice(dot + 1);
  if (!REF.test(ref) || !/^[A-Za-z0-9_-]+$/.test(encoded)) {
    return null;
  }
  const subject = Buffer.from(encoded, 'base64url').toString('utf8');
  // Only the canonical encoding round-trips: refuses padding tricks and invalid UTF-8.
  if (Buffer.from(subject, 'utf8').toString('base64url') !== encoded) {
    return null;
  }
  return { subject, ref };
}

/**
 * The subject itself where it is a safe hash tag (readable keys), else `~` + base64url. Braces
 * would end the tag early (and `}x` would give an empty tag: keys scattered over slots); plain
 * tags never start with `~`, so the two forms cannot collide.
 */
export function subjectTag(subject: string): string {
  return /[{}]/.test(subject) || subject.startsWith('~')
    ? `~${Buffer.from(subject, 'utf8').toString('base64url')}`
    : subject;
}

export class SubjectKeys {
  readonly buckets: string;
  readonly state: string;
  readonly leases: string;
  readonly pending: string;

  /** `base` is `<prefix>{<tag>}`. */
  constructor(readonly base: string) {
    this.buckets = `${base}:b`;
    this.state = `${base}:s`;
    this.leases = `${base}:lease`;
    this.pending = `${base}:pend`;
  }

  static of(prefix: string, subject: string): SubjectKeys {
    return new SubjectKeys(`${prefix}{${subjectTag(subject)}}`);
  }

  record(ref: string): string {
    return `${this.base}:r:${ref}`;
  }

  /** Hashed: any caller-chosen string gives a short key that cannot mimic another key. */
  idempotency(key: string): string {
    return `${this.base}:i:${createHash('sha256').update(key).digest('base64url')}`;
  }
}

/** SCAN pattern for one kind of per-subject key (`lease`, `pend`) under a prefix. */
export function scanPattern(prefix: string, suffix: 'lease' | 'pend'): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:${suffix}`;
}

/**
 * The subject keys behind a key SCAN found, or null when the glob matched something else (an
 * idempotency key whose hash ends like ours cannot: tags never contain braces).
 */
export function keysFromScanned(
  prefix: string,
  key: string,
  suffix: 'lease' | 'pend',
): SubjectKeys | null {
  const end = `}:${suffix}`;
  if (!key.startsWith(`${prefix}{`) || !key.endsWith(end)) {
    return null;
  }
  const tag = key.slice(prefix.length + 1, key.length - end.length);
  return /[{}]/.test(tag) ? null : new SubjectKeys(`${prefix}{${tag}}`);
}
