export * from './budget.types.js';
export {
  BudgetStore,
  IDEMPOTENCY_RETENTION_MS,
  SETTLED_RETENTION_MS,
  UNCONFIRMED_RETENTION_MS,
} from './budget.store.js';
export { RedisBudgetStore, type RedisBudgetStoreOptions } from './redis-budget.store.js';
export { MemoryBudgetStore } from './memory-budget.store.js';
export type { MemoryIdempotencyEntry, MemoryRecord } from './memory-budget.subject.js';
export { createRedisClient, whenReady, type RedisClientOptions } from './redis.client.js';
export type { RedisClient } from './budget.scripts.js';
export {
  DEFAULT_RESERVATION_SIGNING_KEY,
  type ReservationClaims,
  parseReservationId,
  reservationClaims,
  reservationId,
  setReservationSigningKey,
} from './budget.keys.js';
export { DIMENSIONS } from './budget.decision.js';
export { costMicros } from './bucket.math.js';
export { FailoverBudgetStore, isUnreachable } from './failover.store.js';
export { GROUPS, GroupKeys, SubjectKeys } from './budget.keys.js';
export { refOf } from './budget.scope.js';
