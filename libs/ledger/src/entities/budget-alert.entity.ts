import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A budget alert (SPEC "Budget alerts"): raised once per subject, window, period and threshold by
 * the ledger statement whose settlement crossed it; pending until a dispatcher delivered it.
 */
@Entity({ name: 'budget_alerts' })
@Unique('uq_budget_alerts', ['subject', 'window', 'period', 'thresholdPercent'])
@Index('ix_budget_alerts_pending', ['nextAttemptAt'], { where: 'delivered_at IS NULL' })
@Check('ck_budget_alerts_window', `"window" IN ('day', 'month')`)
export class BudgetAlert {
  /** bigint: pg returns it as decimal text. */
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_budget_alerts',
  })
  id!: string;

  @Column({ type: 'text' })
  subject!: string;

  /** The tier whose threshold was crossed. */
  @Column({ type: 'text' })
  tier!: string;

  @Column({ type: 'text' })
  window!: 'day' | 'month';

  /** 'YYYY-MM-DD' for a day, 'YYYY-MM' for a month (UTC). */
  @Column({ type: 'text' })
  period!: string;

  @Column({ name: 'threshold_percent', type: 'int' })
  thresholdPercent!: number;

  /** Decimal text (numeric). */
  @Column({ name: 'limit_usd', type: 'numeric' })
  limitUsd!: string;

  /** The committed cost of the period once the crossing settlement was written. */
  @Column({ name: 'spent_usd', type: 'numeric' })
  spentUsd!: string;

  @Column({ name: 'raised_at', type: 'timestamptz', default: () => 'now()' })
  raisedAt!: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;
}
