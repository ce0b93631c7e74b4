import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A named set of limits (SPEC §3, §5); NULL is unlimited. Admins edit these rows with SQL. */
@Entity({ name: 'tiers' })
export class Tier {
  @PrimaryColumn({ type: 'text' })
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

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
