import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DailyCostSource } from '#budget';
import { AppConfig } from '#config';
import { ApiClientRepository } from './api-client.repository.js';
import { BudgetAlertRepository } from './budget-alert.repository.js';
import { CatalogueService } from './catalogue.service.js';
import { DailyUsageRepository } from './daily-usage.repository.js';
import { dataSourceOptions } from './data-source.options.js';
import { holdEmbeddedDatabase } from './embedded.lock.js';
import { LedgerWriter } from './ledger.writer.js';
import { SettlementRepository } from './settlement.repository.js';

/**
 * Recording: the Postgres connection, the ledger writer, daily usage, the catalogue and API
 * clients. Expects the global AppConfigModule.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        if (config.embeddedDatabase) {
          // Released at exit: the database stays in this process's memory until then.
          holdEmbeddedDatabase(config.get('DATA_DIR'), 'token-budget service');
        }
        return {
          ...dataSourceOptions({
            DATABASE_URL: config.get('DATABASE_URL'),
            DATA_DIR: config.get('DATA_DIR'),
          }),
          // The embedded database is migrated on start (SPEC §6); a shared one by `migration:run`.
          migrationsRun: config.embeddedDatabase,
          // The start checked the database already (main.ts): a start that fails fails fast.
          retryAttempts: 2,
          retryDelay: 1_000,
        };
      },
    }),
  ],
  providers: [
    {
      provide: LedgerWriter,
      inject: [DataSource, AppConfig, CatalogueService],
      useFactory: (dataSource: DataSource, config: AppConfig, catalogue: CatalogueService) =>
        new LedgerWriter(dataSource, {
          batchWaitMs: config.get('LEDGER_BATCH_WAIT_MS'),
          // A settlement adds to its subject's ancestors' daily rows too (SPEC §5).
          // Before the catalogue's first load (a spool replayed at start) no scope is known yet.
          scopeOf: (subject) => (catalogue.loadedAtMs > 0 ? catalogue.ancestorsOf(subject) : []),
          // PGlite runs one statement at a time anyway.
          maxConcurrentBatches: config.embeddedDatabase ? 1 : 2,
          // In process, PGlite cannot go silent: a slow batch is load, not an outage.
          ...(config.embeddedDatabase ? { commitTimeoutMs: 10_000 } : {}),
          // An unknown tier (just created, not yet loaded) may alert: correctness before speed.
          tierMayAlert: (tier) => {
            const entry = catalogue.tier(tier);
            return entry === undefined || entry.alertThresholds !== null;
          },
          tierOf: (subject) => catalogue.tierOf(subject),
        }),
    },
    {
      provide: CatalogueService,
      inject: [DataSource, AppConfig],
      useFactory: (dataSource: DataSource, config: AppConfig) => {
        const url = config.get('DATABASE_URL');
        return new CatalogueService(dataSource, {
          defaultTier: config.get('DEFAULT_TIER'),
          reloadSeconds: config.get('CATALOGUE_RELOAD_SECONDS'),
          listen: url === undefined ? 'embedded' : { url },
        });
      },
    },
    DailyUsageRepository,
    { provide: DailyCostSource, useExisting: DailyUsageRepository },
    ApiClientRepository,
    SettlementRepository,
    BudgetAlertRepository,
  ],
  exports: [
    LedgerWriter,
    CatalogueService,
    DailyUsageRepository,
    DailyCostSource,
    ApiClientRepository,
    SettlementRepository,
    BudgetAlertRepository,
  ],
})
export class LedgerModule {}
