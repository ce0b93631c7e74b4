import { Injectable } from '@nestjs/common';
import type { ReserveResult, Settlement } from '#budget';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PREFIX = 'token_budget_';

/** Every Prometheus metric of the service, on one registry, all prefixed `token_budget_`. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly decisions = new Counter({
    name: `${PREFIX}decisions_total`,
    help: 'Checks decided, by outcome (allowed, degraded, refused, exceeds_capacity), refusing dimension and tier.',
    labelNames: ['outcome', 'dimension', 'tier'] as const,
    registers: [this.registry],
  });

  readonly decisionSeconds = new Histogram({
    name: `${PREFIX}decision_duration_seconds`,
    help: 'Time to decide a check, from validated request to answer (counting, store, presentation).',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: `${PREFIX}tokens_total`,
    help: 'Tokens reserved by checks, committed as used, and refunded to buckets.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly costCommitted = new Counter({
    name: `${PREFIX}cost_committed_usd_total`,
    help: 'US dollars charged by settlements (committed, partial refunds, expired and charged).',
    registers: [this.registry],
  });

  readonly settlements = new Counter({
    name: `${PREFIX}settlements_total`,
    help: 'Reservations settled, by status (committed, refunded, expired).',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly reservationsExpired = new Counter({
    name: `${PREFIX}reservations_expired_total`,
    help: 'Reservations settled by expiry, by policy (charge or release).',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });

  readonly dependencyErrors = new Counter({
    name: `${PREFIX}dependency_errors_total`,
    help: 'Errors talking to Redis or Postgres.',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly storeMode = new Gauge({
    name: `${PREFIX}store_mode`,
    help: 'The decision store in use: 1 for the active mode (redis, memory, local_fallback).',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly ledgerBatchSize = new Histogram({
    name: `${PREFIX}ledger_batch_size`,
    help: 'Settlements written per ledger transaction (group commit).',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
    registers: [this.registry],
  });

  readonly alertsRaised = new Counter({
    name: `${PREFIX}alerts_raised_total`,
    help: 'Budget alerts raised by the ledger writes of this instance (one per subject, window, period and threshold).',
    registers: [this.registry],
  });

  readonly alertsDelivered = new Counter({
    name: `${PREFIX}alerts_delivered_total`,
    help: 'Budget alerts this instance delivered to ALERT_WEBHOOK_URL (answered 2xx).',
    registers: [this.registry],
  });

  /** Where the catalogue's skipped rows are read from at each scrape (set by LedgerMetrics). */
  skippedRows: () => readonly { table: string; row: string }[] = () => [];

  readonly catalogueRowsSkipped = new Gauge({
    name: `${PREFIX}catalogue_rows_skipped`,
    help: 'Catalogue rows the service cannot use and left out (1 per row, by table and row name); see the error log.',
    labelNames: ['table', 'row'] as const,
    registers: [this.registry],
    collect: () => {
      this.catalogueRowsSkipped.reset();
      for (const { table, row } of this.skippedRows()) {
        this.catalogueRowsSkipped.set({ table, row }, 1);
      }
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** One decided check: outcome, refusing dimension, tier, tokens reserved and its latency. */
  recordCheck(
    result: ReserveResult,
    tier: string,
    requestedCompletion: number,
    seconds: number,
  ): void {
    this.decisionSeconds.observe(seconds);
    if (result.allowed) {
      const { promptTokens, completionTokens } = result.reservation;
      const outcome = completionTokens < requestedCompletion ? 'degraded' : 'allowed';
      this.decisions.inc({ outcome, dimension: '', tier });
      this.tokens.inc({ kind: 'reserved' }, promptTokens + completionTokens);
    } else {
      const outcome = result.reason === 'exceeds_capacity' ? 'exceeds_capacity' : 'refused';
      this.decisions.inc({ outcome, dimension: result.dimension, tier });
    }
  }

  /** One settlement that reached the ledger: tokens charged and given back, cost, status. */
  recordSettlement(settlement: Settlement): void {
    const charged = settlement.promptTokens + settlement.completionTokens;
    this.settlements.inc({ status: settlement.status });
    this.tokens.inc({ kind: 'committed' }, charged);
    if (settlement.reservedTokens !== undefined && settlement.reservedTokens > charged) {
      this.tokens.inc({ kind: 'refunded' }, settlement.reservedTokens - charged);
    }
    this.costCommitted.inc(settlement.costMicros / 1_000_000);
  }

  setStoreMode(mode: 'redis' | 'memory' | 'local_fallback'): void {
    for (const candidate of ['redis', 'memory', 'local_fallback']) {
      this.storeMode.set({ mode: candidate }, candidate === mode ? 1 : 0);
    }
  }
}
