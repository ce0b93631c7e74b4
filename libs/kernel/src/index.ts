export * from './domain.error.js';
export * from './errors.js';
export { RecentMap, type RecentMapLimits, detachedString } from './recent.map.js';
export { microsToUsd, usdPerMtokToPicosPerToken, usdToMicros } from './money.js';
export * from './utc.js';
