import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Extra per-(subject, model) buckets for one tier and model; NULL is unlimited. */
@Entity({ name: 'tier_model_limits' })
export class TierModelLimit {
  @PrimaryColumn({ type: 'text' })
  tier!: string;

  @PrimaryColumn({ type: 'text' })
  model!: string;

  @Column({ name: 'requests_per_minute', type: 'int', nullable: true })
  requestsPerMinute!: number | null;

  @Column({ name: 'tokens_per_minute', type: 'int', nullable: true })
  tokensPerMinute!: number | null;
}
