export * from './budget.types.js';
export { BudgetStore, SETTLED_RETENTION_MS, UNCONFIRMED_RETENTION_MS } from './budget.store.js';
export { RedisBudgetStore, type RedisBudgetStoreOptions } from './redis-budget.store.js';
export { MemoryBudgetStore } from './memory-budget.store.js';
export { createRedisClient, whenReady, type RedisClientOptions } from './redis.client.js';
export type { RedisClient } from './budget.scripts.js';
export { parseReservationId } from './budget.keys.js';
export { DIMENSIONS } from './budget.decision.js';
export { costMicros, nextUtcMidnight, isoDay, epochDay } from './bucket.math.js';
