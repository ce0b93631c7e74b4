import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ApiClient } from './api-client.entity.js';

/** A rotated-out key that still works, as its client, until expires_at (rotation's grace). */
@Entity({ name: 'api_key_grace' })
@Check('ck_api_key_grace_key_sha256', "key_sha256 ~ '^[0-9a-f]{64}$'")
export class ApiKeyGrace {
  @PrimaryColumn({ name: 'key_sha256', type: 'text', primaryKeyConstraintName: 'pk_api_key_grace' })
  keySha256!: string;

  @Column({ type: 'text' })
  client!: string;

  @ManyToOne(() => ApiClient, { nullable: false, onUpdate: 'CASCADE', onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'client',
    referencedColumnName: 'name',
    foreignKeyConstraintName: 'fk_api_key_grace_client',
  })
  clientRow?: ApiClient;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
