import { DomainError } from '#kernel';
import { Logger } from '@nestjs/common';
import { BudgetStore } from './budget.store.js';
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

export type RedisFailureMode = 'local' | 'open' | 'closed';

export interface FailoverOptions {
  mode: RedisFailureMode;
  /** After a failure, Redis is retried at most this often (so an outage costs no timeouts). */
  retryAfterMs?: number;
  /** Told of every failed Redis call and every change between Redis and the fallback. */
  onUnavailable?: (error: unknown) => void;
  onModeChange?: (active: 'redis' | 'local_fallback') => void;
}

const FALLBACK_MODE: Record<RedisFailureMode, string> = {
  local: 'local_fallback',
  open: 'open_allow_all',
  closed: 'closed_refusing',
};

const UNLIMITED: Limits = {
  requests: null,
  tokens: null,
  concurrent: null,
  dailyCostMicros: null,
  modelRequests: null,
  modelTokens: null,
};

/**
 * REDIS_FAILURE_MODE around the Redis store. While Redis is unreachable a decision is taken by
 * the in-process store with this instance's view only (`local`), allowed without limits but
 * still tracked so commits reach the ledger (`open`), or refused with 503 (`closed`). Redis is
 * probed again every `retryAfterMs`; when it answers, decisions go back to it on their own.
 * Reservations made locally are settled locally; their ledger rows are written as usual.
 */
export class FailoverBudgetStore extends BudgetStore {
  readonly mode = 'redis' as const;
  private readonly logger = new Logger('BudgetStore');
  private downSince: number | null = null;
  private readonly retryAfterMs: number;

  constructor(
    private readonly primary: BudgetStore,
    private readonly fallback: BudgetStore,
    private readonly options: FailoverOptions,
  ) {
    super();
    this.retryAfterMs = options.retryAfterMs ?? 1000;
  }

  /** Whether decisions are currently taken without Redis. */
  get degraded(): boolean {
    return this.downSince !== null;
  }

  override get activeMode(): string {
    return this.degraded ? FALLBACK_MODE[this.options.mode] : this.mode;
  }

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    const answer = await this.onPrimary(() => this.primary.reserve(req));
    if (answer.ok) {
      return answer.value;
    }
    switch (this.options.mode) {
      case 'closed':
        throw new DomainError(
          'store_unavailable',
          'The budget store (Redis) is unreachable and REDIS_FAILURE_MODE=closed refuses to decide without it; retry shortly.',
          503,
        );
      case 'open':
        return this.fallback.reserve({ ...req, limits: UNLIMITED, scope: undefined });
      case 'local':
        return this.fallback.reserve(req);
    }
  }

  commit(
    reservationId: string,
    usage: Usage,
    ancestors?: readonly string[],
  ): Promise<SettleResult> {
    return this.settle((store) => store.commit(reservationId, usage, ancestors));
  }

  refund(
    reservationId: string,
    usage: Usage | null,
    ancestors?: readonly string[],
  ): Promise<SettleResult> {
    return this.settle((store) => store.refund(reservationId, usage, ancestors));
  }

  async expireDue(policy: ExpiryPolicy, max?: number): Promise<Settlement[]> {
    const local = await this.fallback.expireDue(policy, max);
    const remote = await this.onPrimary(() => this.primary.expireDue(policy, max));
    return remote.ok ? [...local, ...remote.value] : local;
  }

  async pendingLedger(olderThanMs: number, max?: number): Promise<Settlement[]> {
    const local = await this.fallback.pendingLedger(olderThanMs, max);
    const remote = await this.onPrimary(() => this.primary.pendingLedger(olderThanMs, max));
    return remote.ok ? [...local, ...remote.value] : local;
  }

  async confirmLedgered(settlements: Settlement[]): Promise<void> {
    await this.fallback.confirmLedgered(settlements);
    await this.onPrimary(() => this.primary.confirmLedgered(settlements));
  }

  async find(reservationId: string): Promise<Reservation | null> {
    const remote = await this.onPrimary(() => this.primary.find(reservationId));
    if (remote.ok && remote.value) {
      return remote.value;
    }
    return this.fallback.find(reservationId);
  }

  async usage(
    subject: string,
    limits: Limits,
  ): Promise<{ state: LimitsState; inFlight: Reservation[] }> {
    const remote = await this.onPrimary(() => this.primary.usage(subject, limits));
    return remote.ok ? remote.value : this.fallback.usage(subject, limits);
  }

  ping(): Promise<void> {
    return this.primary.ping();
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close(), this.fallback.close()]);
  }

  /** Settles where the reservation lives: Redis first, then the local store. */
  private async settle(call: (store: BudgetStore) => Promise<SettleResult>): Promise<SettleResult> {
    const local = await call(this.fallback);
    if (local.ok || local.error === 'conflict') {
      return local;
    }
    const remote = await this.onPrimary(() => call(this.primary));
    if (remote.ok) {
      return remote.value;
    }
    throw new DomainError(
      'store_unavailable',
      'The budget store (Redis) is unreachable, so this reservation cannot be settled now; retry shortly (settling is idempotent).',
      503,
    );
  }

  /** Runs a Redis call unless Redis is known down; a connection-level failure marks it down. */
  private async onPrimary<T>(
    call: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false }> {
    if (this.downSince !== null && Date.now() - this.downSince < this.retryAfterMs) {
      return { ok: false };
    }
    try {
      const value = await call();
      if (this.downSince !== null) {
        this.downSince = null;
        this.logger.warn('Redis is reachable again: decisions are back on the shared store');
        this.options.onModeChange?.('redis');
      }
      return { ok: true, value };
    } catch (error) {
      if (!isUnreachable(error)) {
        throw error;
      }
      this.options.onUnavailable?.(error);
      if (this.downSince === null) {
        this.logger.warn(
          `Redis unreachable (${String(error)}): REDIS_FAILURE_MODE=${this.options.mode} until it returns`,
        );
        this.options.onModeChange?.('local_fallback');
      }
      this.downSince = Date.now();
      return { ok: false };
    }
  }
}

/** A reply error is Redis answering (a bug to surface); anything else means it did not answer. */
function isUnreachable(error: unknown): boolean {
  return !(error instanceof Error && error.name === 'ReplyError');
}
