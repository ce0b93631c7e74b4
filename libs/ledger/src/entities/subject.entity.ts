import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Whose budget is charged, and its tier; a subject without a row has DEFAULT_TIER. */
@Entity({ name: 'subjects' })
export class Subject {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  tier!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
