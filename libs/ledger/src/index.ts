export { ApiClientRepository } from './api-client.repository.js';
export {
  BudgetAlertRepository,
  type AlertOutcome,
  type ClaimedAlert,
} from './budget-alert.repository.js';
export { generateApiKey, hashApiKey } from './api-key.js';
export { CATALOGUE_CHANNEL } from './catalogue.feed.js';
export { CatalogueService, type CatalogueOptions } from './catalogue.service.js';
export type { CatalogueTable, ModelEntry, ModelLimitEntry, TierEntry } from './catalogue.types.js';
export { DailyUsageRepository, type DailyUsageTotals } from './daily-usage.repository.js';
export { dataSourceOptions, type DatabaseSettings } from './data-source.options.js';
export {
  EMBEDDED_LOCK_FILE,
  EmbeddedDatabaseHeldError,
  embeddedDatabaseHolder,
  holdEmbeddedDatabase,
} from './embedded.lock.js';
export * from './entities/index.js';
export type { BatchEvent } from './group-commit.queue.js';
export { LEDGER_WAIT_MS, ledgerCall, refusedByPostgres } from './ledger.timeout.js';
export { LedgerModule } from './ledger.module.js';
export { LedgerWriter, type LedgerWriterOptions } from './ledger.writer.js';
export { migrateDatabase } from './migrate.js';
export { StartupError, assertDatabaseReady, redactUrl } from './database.preflight.js';
export { SettlementRepository } from './settlement.repository.js';
