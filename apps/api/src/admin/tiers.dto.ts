import { OptionalLimit, UsdAmount } from './admin.fields.js';

/** PUT /v1/admin/tiers/{name}: the whole tier (absent or null limits are unlimited). */
export class TierDto {
  @OptionalLimit('Requests per minute (token bucket).', 60)
  requests_per_minute?: number | null;

  @OptionalLimit('Tokens per minute (token bucket).', 100_000)
  tokens_per_minute?: number | null;

  @OptionalLimit('Token bucket capacity; absent: the per-minute limit.', 150_000)
  token_burst?: number | null;

  @OptionalLimit('Reservations in flight at once.', 10)
  max_concurrent?: number | null;

  @UsdAmount('Committed + in-flight cost per UTC day, USD; null: unlimited.', '50', true)
  daily_cost_limit_usd?: string | null;

  @UsdAmount('Committed + in-flight cost per UTC month, USD; null: unlimited.', '1000', true)
  monthly_cost_limit_usd?: string | null;
}

/** PUT /v1/admin/tiers/{name}/models/{model}: extra buckets per (subject, model). */
export class TierModelLimitDto {
  @OptionalLimit('Requests per minute of this model.', 30)
  requests_per_minute?: number | null;

  @OptionalLimit('Tokens per minute of this model.', 50_000)
  tokens_per_minute?: number | null;
}
