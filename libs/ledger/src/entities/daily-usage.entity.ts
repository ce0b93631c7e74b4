import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-subject, per-UTC-day totals of the charged ledger rows, kept by the LedgerWriter. */
@Entity({ name: 'daily_usage' })
export class DailyUsage {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_daily_usage' })
  subject!: string;

  /** 'YYYY-MM-DD' (UTC). */
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'pk_daily_usage' })
  day!: string;

  /** Decimal text (numeric). */
  @Column({ name: 'cost_usd', type: 'numeric', default: '0' })
  costUsd!: string;

  @Column({ type: 'int', default: 0 })
  requests!: number;

  /** bigint: decimal text. */
  @Column({ name: 'prompt_tokens', type: 'bigint', default: '0' })
  promptTokens!: string;

  /** bigint: decimal text. */
  @Column({ name: 'completion_tokens', type: 'bigint', default: '0' })
  completionTokens!: string;
}
