import { Injectable, Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { AppConfig } from '#config';
import {
  BudgetStore,
  MemoryBudgetStore,
  RedisBudgetStore,
  createRedisClient,
  setReservationSigningKey,
  whenReady,
} from '#budget';
import { FailoverBudgetStore } from '#budget';
import { DailyUsageRepository, SettlementRepository } from '#ledger';
import { ReservationJournal } from './reservation.journal.js';
import { MetricsService } from '../observability/metrics.service.js';

const STARTUP_WAIT_MS = 5_000;
const logger = new Logger('BudgetStore');

/** Where the in-process store keeps its reservations across a restart (DATA_DIR). */
export const reservationJournalProvider: Provider = {
  provide: ReservationJournal,
  inject: [AppConfig],
  useFactory: (config: AppConfig) => new ReservationJournal(config.get('DATA_DIR')),
};

/**
 * Redis when REDIS_URL is set (any number of instances), wrapped by REDIS_FAILURE_MODE;
 * else the in-process store (embedded defaults, one instance), with the reservations the last
 * process kept under DATA_DIR.
 */
export const budgetStoreProvider: Provider = {
  provide: BudgetStore,
  inject: [
    AppConfig,
    DailyUsageRepository,
    MetricsService,
    ReservationJournal,
    SettlementRepository,
  ],
  useFactory: async (
    config: AppConfig,
    daily: DailyUsageRepository,
    metrics: MetricsService,
    journal: ReservationJournal,
    settlements: SettlementRepository,
  ): Promise<BudgetStore> => {
    setReservationSigningKey(config.get('RESERVATION_SIGNING_KEY'));
    const url = config.get('REDIS_URL');
    if (url === undefined) {
      metrics.setStoreMode('memory');
      const store = new MemoryBudgetStore(daily);
      await journal.restore(store, settlements);
      return store;
    }
    metrics.setStoreMode('redis');
    const client = createRedisClient(url, {
      commandTimeoutMs: config.get('REDIS_COMMAND_TIMEOUT_MS'),
    });
    // Without an offline queue a command sent before the connection is up fails, and the first
    // checks would be decided locally: wait for Redis at start (REDIS_FAILURE_MODE covers an
    // instance that starts while Redis is down).
    await whenReady(client, STARTUP_WAIT_MS).catch((error: unknown) =>
      logger.warn(
        `${String(error)}: starting with REDIS_FAILURE_MODE=${config.get('REDIS_FAILURE_MODE')}`,
      ),
    );
    return new FailoverBudgetStore(
      new RedisBudgetStore(client, config.get('REDIS_KEY_PREFIX'), daily),
      new MemoryBudgetStore(daily),
      {
        mode: config.get('REDIS_FAILURE_MODE'),
        onUnavailable: () => metrics.dependencyErrors.inc({ dependency: 'redis' }),
        onModeChange: (active) => metrics.setStoreMode(active),
      },
    );
  },
};

/**
 * Closes the store budgetStoreProvider made, at the last shutdown step: the settlement sweeper
 * has settled what this process held by then (before-shutdown), and nothing else uses it after.
 */
@Injectable()
export class BudgetStoreCloser implements OnApplicationShutdown {
  constructor(private readonly store: BudgetStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
