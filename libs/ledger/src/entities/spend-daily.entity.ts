import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Per-UTC-day totals of usage_ledger that spend reports read (kept by the ledger's triggers, in
 * the transaction of each ledger change): the same totals under two groupings.
 */
abstract class SpendTotals {
  /** Decimal text (numeric): exact. */
  @Column({ name: 'cost_usd', type: 'numeric', default: '0' })
  costUsd!: string;

  /** Charged rows (cost > 0), as daily_usage counts them. bigint: decimal text. */
  @Column({ type: 'bigint', default: '0' })
  requests!: string;

  @Column({ name: 'prompt_tokens', type: 'bigint', default: '0' })
  promptTokens!: string;

  @Column({ name: 'completion_tokens', type: 'bigint', default: '0' })
  completionTokens!: string;

  @Column({ name: 'cached_tokens', type: 'bigint', default: '0' })
  cachedTokens!: string;

  /** Every ledger row counted here, charged or not (a total at 0 is removed). */
  @Column({ type: 'bigint', default: '0' })
  settlements!: string;
}

@Entity({ name: 'spend_daily_subjects' })
export class SpendDailySubject extends SpendTotals {
  /** 'YYYY-MM-DD' (UTC). */
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'pk_spend_daily_subjects' })
  day!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_spend_daily_subjects' })
  subject!: string;
}

@Entity({ name: 'spend_daily_models' })
export class SpendDailyModel extends SpendTotals {
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'pk_spend_daily_models' })
  day!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_spend_daily_models' })
  model!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_spend_daily_models' })
  tier!: string;

  /** The api_clients.name; '' for ledger rows without one. */
  @PrimaryColumn({ type: 'text', default: '', primaryKeyConstraintName: 'pk_spend_daily_models' })
  caller!: string;
}
