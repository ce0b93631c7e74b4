import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A named set of limits (SPEC §3, §5); NULL is unlimited. Admins edit these rows with SQL.
 * Mirrors migrations/ exactly (names included): `migration:generate` must find nothing to do.
 */
@Entity({ name: 'tiers' })
@Check('ck_tiers_requests_per_minute', 'requests_per_minute > 0')
@Check('ck_tiers_tokens_per_minute', 'tokens_per_minute > 0')
@Check('ck_tiers_token_burst', 'token_burst > 0')
@Check('ck_tiers_max_concurrent', 'max_concurrent > 0')
@Check(
  'ck_tiers_daily_cost_limit_usd',
  'daily_cost_limit_usd >= 0 AND scale(daily_cost_limit_usd) <= 6',
)
@Check(
  'ck_tiers_monthly_cost_limit_usd',
  'monthly_cost_limit_usd >= 0 AND scale(monthly_cost_limit_usd) <= 6',
)
@Check(
  'ck_tiers_alert_thresholds',
  'cardinality(alert_thresholds) BETWEEN 1 AND 10 AND array_ndims(alert_thresholds) = 1 AND array_position(alert_thresholds, NULL) IS NULL AND 1 <= ALL (alert_thresholds) AND 100 >= ALL (alert_thresholds)',
)
@Check('ck_tiers_daily_cost_limit_usd_max', 'daily_cost_limit_usd <= 9007199254.740991')
@Check('ck_tiers_monthly_cost_limit_usd_max', 'monthly_cost_limit_usd <= 9007199254.740991')
export class Tier {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_tiers' })
  name!: string;

  @Column({ name: 'requests_per_minute', type: 'int', nullable: true })
  requestsPerMinute!: number | null;

  @Column({ name: 'tokens_per_minute', type: 'int', nullable: true })
  tokensPerMinute!: number | null;

  @Column({ name: 'token_burst', type: 'int', nullable: true })
  tokenBurst!: number | null;

  @Column({ name: 'max_concurrent', type: 'int', nullable: true })
  maxConcurrent!: number | null;

  /** Decimal text (numeric): convert with usdToMicros, never parseFloat. */
  @Column({ name: 'daily_cost_limit_usd', type: 'numeric', nullable: true })
  dailyCostLimitUsd!: string | null;

  /** The UTC calendar month's limit, decimal text like dailyCostLimitUsd. */
  @Column({ name: 'monthly_cost_limit_usd', type: 'numeric', nullable: true })
  monthlyCostLimitUsd!: string | null;

  /** Percentages of the cost limits at which a budget alert is raised; NULL = no alerts. */
  @Column({ name: 'alert_thresholds', type: 'int', array: true, nullable: true })
  alertThresholds!: number[] | null;

  /** Set to now() on every UPDATE by the tg_tiers_updated_at trigger. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
