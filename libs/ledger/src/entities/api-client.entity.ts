import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export type ApiClientRole = 'caller' | 'admin';

/** A caller of the API. Only the SHA-256 of its key is kept. */
@Entity({ name: 'api_clients' })
@Unique('uq_api_clients_name', ['name'])
@Unique('uq_api_clients_key_sha256', ['keySha256'])
@Check('ck_api_clients_key_sha256', "key_sha256 ~ '^[0-9a-f]{64}$'")
@Check('ck_api_clients_role', "role IN ('caller', 'admin')")
export class ApiClient {
  /** bigint: pg returns it as decimal text. */
  @PrimaryGeneratedColumn('identity', {
    type: 'bigint',
    generatedIdentity: 'BY DEFAULT',
    primaryKeyConstraintName: 'pk_api_clients',
  })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** Lowercase hex SHA-256 of the key. */
  @Column({ name: 'key_sha256', type: 'text' })
  keySha256!: string;

  /** `caller` (the /v1 decision routes) or `admin` (also /v1/admin). */
  @Column({ type: 'text', default: 'caller' })
  role!: ApiClientRole;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
