import type {
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

/**
 * How long the store keeps a settled reservation once the ledger has it: repeats within this
 * window are answered by the store; later ones from the ledger row (DecisionService). Short, so
 * Redis holds about rate × 10 minutes of records, not a day's worth.
 */
export const SETTLED_RETENTION_MS = 10 * 60_000;
/**
 * How long a check's idempotency key answers with the reservation it made (SPEC §4: 24 hours,
 * also after that reservation was settled).
 */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
/** A settlement the ledger never confirmed is kept this long for re-appending. */
export const UNCONFIRMED_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * The decision engine. Injected by class: Redis for any number of instances, the in-process
 * store for one. Both keep exactly the same behaviour (test/budget conformance suite).
 */
export abstract class BudgetStore {
  abstract readonly mode: 'redis' | 'memory';

  /** How decisions are taken right now; differs from `mode` only while Redis is unreachable. */
  get activeMode(): string {
    return this.mode;
  }

  /** Judges every dimension at once; all or nothing. */
  abstract reserve(req: ReserveRequest): Promise<ReserveResult>;

  /**
   * Replaces the reservation by the real usage. Idempotent. `ancestors` (the subject's scope
   * above it, nearest first) have their shares of a scoped reservation settled the same way.
   */
  abstract commit(
    reservationId: string,
    usage: Usage,
    ancestors?: readonly string[],
  ): Promise<SettleResult>;

  /** Releases the reservation (null), or settles it to a partial usage. Idempotent. */
  abstract refund(
    reservationId: string,
    usage: Usage | null,
    ancestors?: readonly string[],
  ): Promise<SettleResult>;

  /** Settles, exactly once across every sweeper, reservations whose expiry passed. */
  abstract expireDue(policy: ExpiryPolicy, max?: number): Promise<Settlement[]>;

  /**
   * At shutdown: settles, by the expiry policy, every reservation decided in this process (the
   * in-process store, or the local fallback while Redis was down), which would otherwise be lost
   * with it. Nothing for a shared store.
   */
  settleInProcess(policy: ExpiryPolicy): Promise<Settlement[]> {
    void policy;
    return Promise.resolve([]);
  }

  /** Settlements not confirmed by confirmLedgered() for at least `olderThanMs`. */
  abstract pendingLedger(olderThanMs: number, max?: number): Promise<Settlement[]>;

  /** The ledger holds these now: stop offering them to pendingLedger(). */
  abstract confirmLedgered(settlements: Settlement[]): Promise<void>;

  /** The reservation behind an id (held or settled), null when unknown or forgotten. */
  abstract find(reservationId: string): Promise<Reservation | null>;

  /** Read-only view of a subject under `limits` (model dimensions are not shown). */
  abstract usage(
    subject: string,
    limits: Limits,
  ): Promise<{ state: LimitsState; inFlight: Reservation[] }>;

  abstract ping(): Promise<void>;

  abstract close(): Promise<void>;
}

/** Guards the engine against arithmetic it was not built for (the API validates first). */
export function assertReserveRequest(req: ReserveRequest): void {
  // Checked one by one: no array of pairs per check.
  assertCount('promptTokens', req.promptTokens);
  assertCount('completionTokens', req.completionTokens);
  assertCount('minCompletionTokens', req.minCompletionTokens);
  assertCount('ttlSeconds', req.ttlSeconds);
  assertCount('inputPicosPerToken', req.pricing.inputPicosPerToken);
  assertCount('outputPicosPerToken', req.pricing.outputPicosPerToken);
  assertCount('cachedInputPicosPerToken', req.pricing.cachedInputPicosPerToken);
  if (req.ttlSeconds < 1) {
    throw new RangeError('ttlSeconds must be at least 1');
  }
  if (req.subject.length === 0) {
    throw new RangeError('subject must not be empty');
  }
}

function assertCount(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a non-negative integer; got ${String(value)}`);
  }
}

export function assertUsage(usage: Usage): void {
  for (const value of [usage.promptTokens, usage.completionTokens, usage.cachedTokens ?? 0]) {
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      throw new RangeError(
        `usage token counts must be non-negative integers; got ${String(value)}`,
      );
    }
  }
  if ((usage.cachedTokens ?? 0) > usage.promptTokens) {
    throw new RangeError('cached tokens are part of the prompt tokens: they cannot exceed them');
  }
}
