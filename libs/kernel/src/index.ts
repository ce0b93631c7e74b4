export * from './domain.error.js';
export { microsToUsd, usdPerMtokToPicosPerToken, usdToMicros } from './money.js';
export * from './utc.js';
