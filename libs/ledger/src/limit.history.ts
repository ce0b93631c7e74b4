import type { BucketLimit, LimitChange } from '#budget';

/** Edits older than this no longer matter: every bucket written before is long refilled. */
const KEEP_MS = 24 * 3_600_000;
/** At most this many edits per limit are replayed (the most recent ones). */
const MAX_CHANGES = 8;

/**
 * The edits of each bucket limit that this instance saw (SPEC §3: a shrink clamps the bucket,
 * a grow keeps its level), by a key per tier and dimension. The stores replay a bucket written
 * before an edit through them, so a shrink holds even when no check ran while it was in force.
 */
export class LimitHistory {
  private readonly edits = new Map<string, LimitChange[]>();

  /** Notes that the limit under `key` went from `before` to `after` at `atMs`. */
  record(key: string, before: BucketLimit | null, after: BucketLimit | null, atMs: number): void {
    if (
      before === null ||
      after === null ||
      (before.capacity === after.capacity && before.perMinute === after.perMinute)
    ) {
      return;
    }
    const kept = (this.edits.get(key) ?? []).filter((edit) => edit.atMs > atMs - KEEP_MS);
    kept.push({ atMs, capacity: after.capacity, perMinute: after.perMinute });
    this.edits.set(key, kept.slice(-MAX_CHANGES));
  }

  /** The limit with its recent edits attached (unchanged when it has none). */
  attach(key: string, limit: BucketLimit | null): BucketLimit | null {
    const edits = limit && this.edits.get(key);
    return edits ? { ...limit, changes: Object.freeze([...edits]) } : limit;
  }
}
