import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { Settlement } from '#budget';
import { type BatchEvent, GroupCommitQueue } from './group-commit.queue.js';
import { LedgerUnavailableError } from '#kernel';
import { LEDGER_WAIT_MS } from './ledger.timeout.js';
import {
  APPEND_BATCH_SQL,
  APPEND_BATCH_WITH_ALERTS_SQL,
  appendBatchParams,
  assertValidSettlement,
} from './ledger.sql.js';

export interface LedgerWriterOptions {
  /** LEDGER_BATCH_WAIT_MS: how long the first append of a batch waits for company. */
  batchWaitMs: number;
  /** Settlements per statement (default 500). */
  maxBatchSize?: number;
  /** Statements in flight at once (default 2: one commits while the next forms and ships). */
  maxConcurrentBatches?: number;
  /** An append not confirmed by then rejects with ledger_unavailable (default LEDGER_WAIT_MS). */
  commitTimeoutMs?: number;
  /**
   * A subject's ancestors (the catalogue's): a settlement without its own `scope` adds to their
   * daily_usage rows too. Absent: to the subject's row only.
   */
  scopeOf?: (subject: string) => readonly string[];
  /**
   * Whether settlements of this tier may raise budget alerts (its alert_thresholds, as the
   * catalogue last saw them). A batch with none runs the cheaper statement. Default: all may.
   */
  tierMayAlert?: (tier: string) => boolean;
  /** A subject's tier (the catalogue's), so an ancestor's aggregate is judged on its own tier. */
  tierOf?: (subject: string) => string;
}

/** SQLSTATEs after which the very same statement may simply be run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 3;

/**
 * The durable side of every settlement: `append` resolves only once its usage_ledger row and the
 * matching daily_usage totals are committed in Postgres. Concurrent appends share one statement
 * (group commit). Exactly once per reservation id, however often it is appended.
 */
@Injectable()
export class LedgerWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(LedgerWriter.name);
  private readonly queue: GroupCommitQueue<Settlement>;
  /** Failed batches since the last success: an outage is logged when it starts and ends. */
  private failedBatches = 0;
  private readonly alertListeners = new Set<(count: number) => void>();
  private readonly tierMayAlert: (tier: string) => boolean;
  private readonly tierOf: ((subject: string) => string) | undefined;

  private readonly scopeOf: ((subject: string) => readonly string[]) | undefined;

  constructor(
    private readonly dataSource: DataSource,
    options: LedgerWriterOptions,
  ) {
    this.scopeOf = options.scopeOf;
    this.tierMayAlert = options.tierMayAlert ?? (() => true);
    this.tierOf = options.tierOf;
    this.queue = new GroupCommitQueue<Settlement>(
      (batch) => this.writeBatch(batch),
      {
        maxWaitMs: options.batchWaitMs,
        maxBatchSize: options.maxBatchSize ?? 500,
        maxConcurrentBatches: options.maxConcurrentBatches ?? 2,
        timeoutMs: options.commitTimeoutMs ?? LEDGER_WAIT_MS,
      },
      (ms) => new LedgerUnavailableError(`no answer from Postgres within ${ms} ms`),
    );
    this.queue.onBatch((event) => this.logTransition(event));
  }

  /**
   * Resolves when the settlement is durable; rejects with LedgerUnavailableError when that could
   * not be confirmed (retry: it is idempotent) or InvalidSettlementError for a malformed one.
   */
  append(settlement: Settlement): Promise<void> {
    try {
      assertValidSettlement(settlement);
    } catch (error) {
      return Promise.reject(error);
    }
    if (settlement.scope === undefined && this.scopeOf !== undefined) {
      const scope = this.scopeOf(settlement.subject);
      if (scope.length > 0) {
        return this.queue.submit({ ...settlement, scope });
      }
    }
    return this.queue.submit(settlement);
  }

  /** Writes everything queued and waits for every statement in flight (shutdown). */
  flush(): Promise<void> {
    return this.queue.drain();
  }

  /** Observes every batch written or failed, e.g. to record batch sizes. Returns unsubscribe. */
  onBatch(listener: (event: BatchEvent) => void): () => void {
    return this.queue.onBatch(listener);
  }

  /** Observes the budget alerts each written batch raised (metrics). Returns unsubscribe. */
  onAlertsRaised(listener: (count: number) => void): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  /** Appends not yet confirmed (queued or being written). */
  get pending(): number {
    return this.queue.pending;
  }

  // Shutdown hooks run from the app module inwards, so this flush happens after the HTTP server
  // has closed (no more appends) and before TypeORM destroys the pool.
  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private announceAlerts(count: number): void {
    for (const listener of this.alertListeners) {
      try {
        listener(count);
      } catch {
        // A failing metrics hook must never fail a commit.
      }
    }
  }

  /** Whether this settlement may raise an alert: its subject's tier or an ancestor's. */
  private mayAlert(settlement: Settlement): boolean {
    if (this.tierMayAlert(settlement.tier)) {
      return true;
    }
    const { tierOf } = this;
    // Without tierOf an ancestor's tier is unknown here: it may alert.
    return (settlement.scope ?? []).some(
      (ancestor) => tierOf === undefined || this.tierMayAlert(tierOf(ancestor)),
    );
  }

  private logTransition(event: BatchEvent): void {
    if (event.ok) {
      if (this.failedBatches > 0) {
        this.logger.log(`Ledger writes recovered after ${this.failedBatches} failed batch(es)`);
      }
      this.failedBatches = 0;
    } else if (this.failedBatches++ === 0) {
      this.logger.warn(
        `Ledger writes failing (${describe(event.error)}); appends answer ledger_unavailable until Postgres is back`,
      );
    }
  }

  private async writeBatch(batch: Settlement[]): Promise<void> {
    // The same reservation twice in one batch (a retried commit racing its first attempt) is one
    // row; the first append wins, as it would across batches.
    const unique = new Map<string, Settlement>();
    for (const settlement of batch) {
      if (!unique.has(settlement.reservationId)) {
        unique.set(settlement.reservationId, settlement);
      }
    }
    const settlements = [...unique.values()];
    const params = appendBatchParams(settlements);
    const sql = settlements.some((s) => this.mayAlert(s))
      ? APPEND_BATCH_WITH_ALERTS_SQL
      : APPEND_BATCH_SQL;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows: { alerts: number }[] = await this.dataSource.query(sql, params);
        const alerts = rows[0]?.alerts ?? 0;
        if (alerts > 0) {
          this.announceAlerts(alerts);
        }
        return;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          continue;
        }
        throw new LedgerUnavailableError(describe(error), { cause: error });
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
