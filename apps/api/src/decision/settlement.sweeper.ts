import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '#config';
import { BudgetStore, MemoryBudgetStore, type Settlement } from '#budget';
import { ReservationJournal } from './reservation.journal.js';
import { LedgerWriter, refusedByPostgres } from '#ledger';
import { MetricsService } from '../observability/metrics.service.js';

/**
 * A reservation is settled within expiry + 10 s (SPEC §4): a pass every 4 s, each pass a read of
 * the store's due index (O(groups + due), not O(keys)), leaves the rest of the budget to the pass.
 */
const SWEEP_EVERY_MS = 4_000;
/** A settlement still unconfirmed after this long is re-appended (the insert is idempotent). */
const PENDING_AFTER_MS = 10_000;
const BATCH = 500;
/** A bound on the refused ids remembered for logging once. */
const MAX_REFUSED_LOGGED = 10_000;

/**
 * Background settlement: expires reservations that reached their expiry (claimed atomically in
 * the store, so several instances never settle one twice) and re-appends any settlement whose
 * ledger write never confirmed (a crash or a Postgres outage between Redis and the ledger).
 */
@Injectable()
export class SettlementSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SettlementSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Settlements the ledger refused that were logged already (one error line each). */
  private readonly refused = new Set<string>();

  constructor(
    private readonly config: AppConfig,
    private readonly store: BudgetStore,
    private readonly ledger: LedgerWriter,
    private readonly metrics: MetricsService,
    private readonly journal: ReservationJournal,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (!this.running) {
        this.running = this.sweep().finally(() => (this.running = undefined));
      }
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  /**
   * Stops sweeping and settles what only this process holds, before any shutdown hook closes
   * the store (its provider does, store.provider.ts) or the ledger.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    // The in-process store (embedded): its reservations outlive the process in DATA_DIR and are
    // taken back at the next start, to be committed, refunded or expired then (SPEC §7).
    if (this.store instanceof MemoryBudgetStore) {
      this.keep(this.store);
      return;
    }
    // The local fallback of a shared store: reservations decided in this process would be lost
    // with it, so they are settled now, by the policy.
    try {
      const settled = await this.store.settleInProcess(
        this.config.get('EXPIRED_RESERVATION_POLICY'),
      );
      await this.record(settled);
      if (settled.length > 0) {
        this.logger.log(`Settled ${settled.length} in-process reservation(s) at shutdown`);
      }
    } catch (error) {
      this.logger.error(`In-process reservations not all settled at shutdown: ${String(error)}`);
    }
  }

  /** One pass; public so tests and shutdown can run it directly. */
  async sweep(): Promise<{ expired: number; reappended: number }> {
    let expired = 0;
    let reappended = 0;
    try {
      const policy = this.config.get('EXPIRED_RESERVATION_POLICY');
      for (let batch = await this.store.expireDue(policy, BATCH); batch.length > 0;) {
        await this.record(batch);
        expired += batch.length;
        batch = batch.length < BATCH ? [] : await this.store.expireDue(policy, BATCH);
      }
      const pending = await this.store.pendingLedger(PENDING_AFTER_MS, BATCH);
      await this.record(pending);
      reappended = pending.length;
    } catch (error) {
      this.logger.warn(`Settlement sweep interrupted, retrying next pass: ${String(error)}`);
    }
    if (this.store instanceof MemoryBudgetStore) {
      this.keep(this.store);
    }
    return { expired, reappended };
  }

  /** Saves the in-process store's unsettled reservations; a failure is logged, never thrown. */
  private keep(store: MemoryBudgetStore): void {
    try {
      this.journal.save(store);
    } catch (error) {
      this.logger.error(`In-process reservations could not be saved: ${String(error)}`);
    }
  }

  private async record(settlements: Settlement[]): Promise<void> {
    if (settlements.length === 0) {
      return;
    }
    const appended = await Promise.allSettled(
      settlements.map((settlement) => this.ledger.append(settlement)),
    );
    if (appended.every((result) => result.status === 'fulfilled')) {
      await this.store.confirmLedgered(settlements);
      return;
    }
    // Appends made together share one statement: one settlement Postgres refuses fails its whole
    // batch. One by one, each good one is written and confirmed, and a bad one is logged (once)
    // and left pending, retried next pass, instead of stalling every sweep behind it. Postgres
    // unreachable fails them all alike: the first such failure ends the pass's attempt.
    const written: Settlement[] = [];
    for (const settlement of settlements) {
      try {
        await this.ledger.append(settlement);
        written.push(settlement);
        this.refused.delete(settlement.reservationId);
      } catch (error) {
        if (!refusedByPostgres(error)) {
          this.logger.warn(
            `Ledger unreachable; ${settlements.length - written.length} settlement(s) stay pending: ${String(error)}`,
          );
          break;
        }
        if (!this.refused.has(settlement.reservationId)) {
          if (this.refused.size >= MAX_REFUSED_LOGGED) {
            this.refused.clear();
          }
          this.refused.add(settlement.reservationId);
          this.logger.error(
            `Settlement ${settlement.reservationId} is refused by the ledger and stays pending (retried every pass): ${String(error)}`,
          );
        }
      }
    }
    await this.store.confirmLedgered(written);
  }
}
