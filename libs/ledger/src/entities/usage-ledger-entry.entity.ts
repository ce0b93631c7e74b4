import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { SettlementStatus } from '#budget';

/**
 * One settled reservation (read side; the LedgerWriter inserts with its own statement).
 * Billing reads this table and daily_usage. No foreign keys: the ledger outlives catalogue edits.
 */
@Entity({ name: 'usage_ledger' })
@Unique('uq_usage_ledger_reservation_id', ['reservationId'])
@Index('ix_usage_ledger_subject_settled_at', ['subject', 'settledAt'])
@Check('ck_usage_ledger_prompt_tokens', 'prompt_tokens >= 0')
@Check('ck_usage_ledger_cached_tokens', 'cached_tokens >= 0')
@Check('ck_usage_ledger_completion_tokens', 'completion_tokens >= 0')
@Check('ck_usage_ledger_cost_usd', 'cost_usd >= 0')
@Check('ck_usage_ledger_status', "status IN ('committed', 'refunded', 'expired')")
export class UsageLedgerEntry {
  /** bigint: pg returns it as decimal text. */
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_usage_ledger',
  })
  id!: string;

  @Column({ name: 'reservation_id', type: 'text' })
  reservationId!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text' })
  tier!: string;

  @Column({ type: 'text' })
  model!: string;

  /** The api_clients.name whose key made the check (NULL for rows written before it was kept). */
  @Column({ type: 'text', nullable: true })
  caller!: string | null;

  @Column({ name: 'prompt_tokens', type: 'int' })
  promptTokens!: number;

  /** Of prompt_tokens, those the provider served from its prompt cache. */
  @Column({ name: 'cached_tokens', type: 'int', default: 0 })
  cachedTokens!: number;

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
