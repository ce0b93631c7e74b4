import type { Provider } from '@nestjs/common';
import { AppConfig } from '../../../../libs/config/src/index.js';
import {
  BudgetStore,
  MemoryBudgetStore,
  RedisBudgetStore,
  createRedisClient,
} from '../../../../libs/budget/src/index.js';
import { DailyUsageRepository } from '../../../../libs/ledger/src/index.js';

/** Redis when REDIS_URL is set (any number of instances), else the in-process store. */
export const budgetStoreProvider: Provider = {
  provide: BudgetStore,
  inject: [AppConfig, DailyUsageRepository],
  useFactory: (config: AppConfig, daily: DailyUsageRepository): BudgetStore => {
    const url = config.get('REDIS_URL');
    if (url === undefined) {
      return new MemoryBudgetStore(daily);
    }
    const client = createRedisClient(url, { commandTimeoutMs: config.get('REDIS_COMMAND_TIMEOUT_MS') });
    return new RedisBudgetStore(client, config.get('REDIS_KEY_PREFIX'), daily);
  },
};
