import {
  type RedisClient,
  RedisBudgetStore,
  createRedisClient,
  whenReady,
} from '../../libs/budget/src/index.js';
import { testEnv } from '../support/test-env.js';
import { budgetStoreConformance } from './budget-store.conformance.js';
import { FakeDailyCostSource, type StoreHarness } from './budget-store.harness.js';
import { deleteKeys } from './redis-keys.js';

budgetStoreConformance('RedisBudgetStore', async () => {
  const { redisUrl, keyPrefix } = testEnv();
  const source = new FakeDailyCostSource();
  let offset = 0;
  const clients: RedisClient[] = [];
  // Each store on its own connection, as separate service instances would be.
  const open = async (): Promise<RedisBudgetStore> => {
    const client = createRedisClient(redisUrl, { commandTimeoutMs: 5_000 });
    clients.push(client);
    await whenReady(client, 5_000);
    return new RedisBudgetStore(client, keyPrefix, source, { clockOffsetMs: () => offset });
  };
  const store = await open();
  const harness: StoreHarness = {
    store,
    source,
    advance: (ms) => {
      offset += ms;
    },
    // A flush of this run's keys: what a Redis restart without persistence leaves behind.
    restart: () => deleteKeys(clients[0]!, `${keyPrefix}*`),
    peers: (count) => Promise.all(Array.from({ length: count }, open)),
    close: async () => {
      await Promise.all(clients.map((client) => client.quit()));
    },
  };
  return harness;
});
