import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One change made through the admin API, written in the same statement as the change. */
@Entity({ name: 'admin_audit' })
@Index('ix_admin_audit_at', ['at'])
export class AdminAudit {
  /** bigint: pg returns it as decimal text. */
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_admin_audit',
  })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  /** The api_clients.name whose key made the change. */
  @Column({ type: 'text' })
  actor!: string;

  /** e.g. `tier.put`, `subject.delete`, `key.rotate`. */
  @Column({ type: 'text' })
  action!: string;

  @Column({ type: 'text' })
  target!: string;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;
}
