import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Tier } from './tier.entity.js';

/** Whose budget is charged, and its tier; a subject without a row has DEFAULT_TIER. */
@Entity({ name: 'subjects' })
@Check('ck_subjects_id', 'char_length(id) BETWEEN 1 AND 256')
@Index('ix_subjects_tier', ['tier'])
@Index('ix_subjects_parent', ['parent'])
export class Subject {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_subjects' })
  id!: string;

  /** The tier's name (fk_subjects_tier); renaming a tier follows (ON UPDATE CASCADE). */
  @Column({ type: 'text' })
  tier!: string;

  /** The `tier` row itself: loaded only when asked for (`relations: { tierRow: true }`). */
  @ManyToOne(() => Tier, { nullable: false, onUpdate: 'CASCADE', onDelete: 'NO ACTION' })
  @JoinColumn({
    name: 'tier',
    referencedColumnName: 'name',
    foreignKeyConstraintName: 'fk_subjects_tier',
  })
  tierRow?: Tier;

  /**
   * The subject this one belongs to (a user's team, a team's org), or null (fk_subjects_parent).
   * The tg_subjects_scope trigger refuses cycles and scopes deeper than 4 levels.
   */
  @Column({ type: 'text', nullable: true })
  parent!: string | null;

  @ManyToOne(() => Subject, { nullable: true, onUpdate: 'CASCADE', onDelete: 'NO ACTION' })
  @JoinColumn({
    name: 'parent',
    referencedColumnName: 'id',
    foreignKeyConstraintName: 'fk_subjects_parent',
  })
  parentRow?: Subject;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** Set to now() on every UPDATE by the tg_subjects_updated_at trigger. */
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
