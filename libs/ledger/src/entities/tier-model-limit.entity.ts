import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tier } from './tier.entity.js';

/** Extra per-(subject, model) buckets for one tier and model; NULL is unlimited. */
@Entity({ name: 'tier_model_limits' })
@Check('ck_tier_model_limits_requests', 'requests_per_minute > 0')
@Check('ck_tier_model_limits_tokens', 'tokens_per_minute > 0')
export class TierModelLimit {
  /** The tier's name (fk_tier_model_limits_tier): renamed and deleted with the tier. */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_tier_model_limits' })
  tier!: string;

  /** A model name; not a foreign key (a limit may name a model priced by the `*` row). */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_tier_model_limits' })
  model!: string;

  /** The `tier` row itself: loaded only when asked for (`relations: { tierRow: true }`). */
  @ManyToOne(() => Tier, { nullable: false, onUpdate: 'CASCADE', onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'tier',
    referencedColumnName: 'name',
    foreignKeyConstraintName: 'fk_tier_model_limits_tier',
  })
  tierRow?: Tier;

  @Column({ name: 'requests_per_minute', type: 'int', nullable: true })
  requestsPerMinute!: number | null;

  @Column({ name: 'tokens_per_minute', type: 'int', nullable: true })
  tokensPerMinute!: number | null;
}
