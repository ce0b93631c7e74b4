import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CatalogueService, LedgerWriter } from '#ledger';
import { MetricsService } from './metrics.service.js';

/** Feeds the ledger writer's batches (group commit) and the catalogue's skipped rows into the metrics. */
@Injectable()
export class LedgerMetrics implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly ledger: LedgerWriter,
    private readonly metrics: MetricsService,
    private readonly catalogue: CatalogueService,
  ) {}

  onModuleInit(): void {
    this.metrics.skippedRows = () => this.catalogue.skippedRows();
    this.unsubscribe = this.ledger.onBatch((batch) => {
      if (batch.ok) {
        this.metrics.ledgerBatchSize.observe(batch.size);
      } else {
        this.metrics.dependencyErrors.inc({ dependency: 'postgres' });
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
