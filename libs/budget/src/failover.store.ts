import { DomainError, StoreUnavailableError } from '#kernel';
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
        throw new StoreUnavailableError('deciding');
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

  /**
   * Local reservations first (only this instance made them), then Redis. Redis unreachable is a
   * 503, never "never issued": the reservation may well be there (SPEC §7).
   */
  async find(reservationId: string): Promise<Reservation | null> {
    const local = await this.fallback.find(reservationId);
    if (local) {
      return local;
    }
    const remote = await this.onPrimary(() => this.primary.find(reservationId));
    if (remote.ok) {
      return remote.value;
    }
    throw new StoreUnavailableError('settling');
  }

  async usage(
    subject: string,
    limits: Limits,
  ): Promise<{ state: LimitsState; inFlight: Reservation[] }> {
    const remote = await this.onPrimary(() => this.primary.usage(subject, limits));
    return remote.ok ? remote.value : this.fallback.usage(subject, limits);
  }

  /**
   * Pings Redis, whatever the retry window: an answer brings decisions back to it at once (so
   * /readyz never says "ok" while checks are still decided in the fallback), no answer marks it
   * down.
   */
  async ping(): Promise<void> {
    if (this.downSince !== null) {
      this.downSince = 0; // Due for a retry now.
    }
    const answer = await this.onPrimary(() => this.primary.ping());
    if (!answer.ok) {
      throw new Error('Redis unreachable');
    }
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
    throw new StoreUnavailableError('settling');
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

/** What the Redis client throws when Redis did not answer (redis.client.ts, budget.scripts.ts). */
const REDIS_DOWN_NAMES = new Set([
  'LateScriptError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
]);
const REDIS_DOWN_MESSAGE =
  /timed out|Connection is closed|Stream isn't writeable|enableOfflineQueue|Redis clock unknown|None of startup nodes|Failed to refresh slots|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/;

/**
 * Only Redis not answering is an outage. A reply error is Redis answering (a bug to surface); a
 * DomainError is an answer of its own (the ledger unreachable while seeding a day is a 503
 * ledger_unavailable, and must not switch the instance to its fallback while Redis is fine).
 */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof DomainError) {
    return false;
  }
  return REDIS_DOWN_NAMES.has(error.name) || REDIS_DOWN_MESSAGE.test(error.message);
}
