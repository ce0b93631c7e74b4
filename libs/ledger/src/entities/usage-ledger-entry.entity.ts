import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { SettlementStatus } from '../../../budget/src/budget.types.js';

/**
 * One settled reservation (read side; the LedgerWriter inserts with its own statement).
 * Billing reads this table and daily_usage.
 */
@Entity({ name: 'usage_ledger' })
export class UsageLedgerEntry {
  @PrimaryColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'reservation_id', type: 'text', unique: true })
  reservationId!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  tier!: string;

  @Column({ type: 'text' })
  model!: string;

  @Column({ name: 'prompt_tokens', type: 'int' })
  promptTokens!: number;

  @Column({ name: 'completion_tokens', type: 'int' })
  completionTokens!: number;

  /** Decimal text (numeric), six fractional digits. */
  @Column({ name: 'cost_usd', type: 'numeric' })
  costUsd!: string;

  @Column({ type: 'text' })
  status!: SettlementStatus;

  @Column({ name: 'reserved_at', type: 'timestamptz' })
  reservedAt!: Date;

  @Column({ name: 'settled_at', type: 'timestamptz' })
  settledAt!: Date;
}
