import { Logger, type Provider } from '@nestjs/common';
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
import { DailyUsageRepository } from '#ledger';
import { MetricsService } from '../observability/metrics.service.js';

const STARTUP_WAIT_MS = 5_000;
const logger = new Logger('BudgetStore');

/**
 * Redis when REDIS_URL is set (any number of instances), wrapped by REDIS_FAILURE_MODE;
 * else the in-process store (embedded defaults, one instance).
 */
export const budgetStoreProvider: Provider = {
  provide: BudgetStore,
  inject: [AppConfig, DailyUsageRepository, MetricsService],
  useFactory: async (
    config: AppConfig,
    daily: DailyUsageRepository,
    metrics: MetricsService,
  ): Promise<BudgetStore> => {
    setReservationSigningKey(config.get('RESERVATION_SIGNING_KEY'));
    const url = config.get('REDIS_URL');
    if (url === undefined) {
      metrics.setStoreMode('memory');
      return new MemoryBudgetStore(daily);
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
