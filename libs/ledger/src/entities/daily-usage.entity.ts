import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Per-subject, per-UTC-day totals of the charged ledger rows, kept by the LedgerWriter. */
@Entity({ name: 'daily_usage' })
export class DailyUsage {
  @PrimaryColumn({ type: 'text' })
  subject!: string;

  /** 'YYYY-MM-DD' (UTC). */
  @PrimaryColumn({ type: 'date' })
  day!: string;

  /** Decimal text (numeric). */
  @Column({ name: 'cost_usd', type: 'numeric' })
  costUsd!: string;

  @Column({ type: 'int' })
  requests!: number;

  @Column({ name: 'prompt_tokens', type: 'bigint' })
  promptTokens!: string;

  @Column({ name: 'completion_tokens', type: 'bigint' })
  completionTokens!: string;
}
