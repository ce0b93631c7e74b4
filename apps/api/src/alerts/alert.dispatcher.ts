import { Logger } from '@nestjs/common';
import type { AlertOutcome, BudgetAlertRepository, ClaimedAlert } from '#ledger';
import { alertBody, postAlert, signAlertBody } from './alert.webhook.js';

export interface AlertDispatcherOptions {
  url: string;
  secret: string;
  /** One attempt gives up after this long. */
  timeoutMs: number;
  /** Retry n waits about retryBaseMs × 2^(n − 1), at most retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Pause between looks for due alerts when there was nothing (more) to do. */
  pollMs: number;
  /** Alerts claimed, and posted in parallel, per round (default 16). */
  batchSize?: number;
}

const SHUTTING_DOWN = 'not delivered: the instance was shutting down';

/**
 * Delivers pending budget alerts to the webhook, in the background of one instance; any number
 * of instances share the work through Postgres (BudgetAlertRepository claims with SKIP LOCKED,
 * so one attempt at a time per alert). Nothing here runs on a request's path: a dead or slow
 * webhook only delays alerts. Retries back off exponentially, with jitter, until a 2xx.
 */
export class AlertDispatcher {
  private readonly logger = new Logger(AlertDispatcher.name);
  private readonly batchSize: number;
  /** Longer than an attempt and its bookkeeping: the claim outlives them unless the instance died. */
  private readonly leaseMs: number;
  private readonly stopping = new AbortController();
  private readonly deliveredListeners = new Set<(count: number) => void>();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Poked while a round ran: look again before pausing. */
  private poked = false;
  private failing = false;

  constructor(
    private readonly repository: BudgetAlertRepository,
    private readonly options: AlertDispatcherOptions,
  ) {
    this.batchSize = options.batchSize ?? 16;
    this.leaseMs = 2 * options.timeoutMs + 10_000;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Aborts the attempts in flight (they are due again at once, for any instance) and stops. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.loop;
  }

  /** Looks for due alerts now rather than at the next poll (an alert was just raised here). */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Observes the alerts each round delivered (metrics). Returns unsubscribe. */
  onDelivered(listener: (count: number) => void): () => void {
    this.deliveredListeners.add(listener);
    return () => this.deliveredListeners.delete(listener);
  }

  /** Claims the alerts due, posts them, records how each attempt ended; returns how many. */
  async round(): Promise<number> {
    const alerts = await this.repository.claimDue(this.batchSize, this.leaseMs);
    if (alerts.length === 0) {
      return 0;
    }
    const outcomes = await Promise.all(alerts.map((alert) => this.attempt(alert)));
    const delivered = await this.repository.recordOutcomes(outcomes);
    if (delivered.length > 0) {
      for (const listener of this.deliveredListeners) {
        try {
          listener(delivered.length);
        } catch {
          // A failing metrics hook must not stop deliveries.
        }
      }
    }
    this.logTransition(outcomes);
    return alerts.length;
  }

  private async run(): Promise<void> {
    let databaseFailing = false;
    while (!this.stopping.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.round();
        if (databaseFailing) {
          this.logger.log('Budget alerts: Postgres reachable again');
          databaseFailing = false;
        }
      } catch (error) {
        if (!databaseFailing) {
          this.logger.warn(`Budget alerts: cannot read or update budget_alerts (${String(error)})`);
          databaseFailing = true;
        }
      }
      // A full round may have left more due: go again at once.
      if (claimed < this.batchSize && !this.poked) {
        await this.pause(this.options.pollMs);
      }
      this.poked = false;
    }
  }

  private async attempt(alert: ClaimedAlert): Promise<AlertOutcome> {
    const body = alertBody(alert);
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.options.timeoutMs),
      this.stopping.signal,
    ]);
    const error = await postAlert(
      this.options.url,
      body,
      signAlertBody(body, this.options.secret),
      signal,
    );
    if (error === null) {
      return { id: alert.id, attempt: alert.attempt, delivered: true };
    }
    if (this.stopping.signal.aborted) {
      return {
        id: alert.id,
        attempt: alert.attempt,
        delivered: false,
        error: SHUTTING_DOWN,
        retryInMs: 0,
      };
    }
    return {
      id: alert.id,
      attempt: alert.attempt,
      delivered: false,
      error: `attempt ${alert.attempt}: ${error}`,
      retryInMs: this.backoffMs(alert.attempt),
    };
  }

  /** base × 2^(attempt − 1), capped, then jittered down by up to half so instances spread out. */
  private backoffMs(attempt: number): number {
    const ceiling = Math.min(
      this.options.retryMaxMs,
      this.options.retryBaseMs * 2 ** Math.min(attempt - 1, 40),
    );
    return Math.round(ceiling * (0.5 + Math.random() * 0.5));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private logTransition(outcomes: readonly AlertOutcome[]): void {
    const failed = outcomes.find((outcome) => !outcome.delivered);
    if (failed !== undefined && !failed.delivered && !this.failing) {
      this.failing = true;
      this.logger.warn(`Budget alert webhook failing (${failed.error}); retrying with backoff`);
    } else if (failed === undefined && this.failing) {
      this.failing = false;
      this.logger.log('Budget alert webhook delivering again');
    }
  }
}
