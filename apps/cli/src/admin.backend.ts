import type {
  AdminKey,
  AdminSubject,
  AdminTier,
  IssuedKey,
  SpendQuery,
  SpendReport,
  TierInput,
  SubjectInput,
} from '#client';

/**
 * What the CLI's commands need, with the admin API's meaning and the client's types: answered by
 * the running service (ApiBackend), or, when none is named, by the same services over the
 * database (DatabaseBackend). Failures are thrown as errors whose message is the sentence to print.
 */
export interface AdminBackend {
  /** Where the commands go, for messages: the service's URL or the database. */
  readonly target: string;
  listKeys(): Promise<AdminKey[]>;
  createKey(name: string, role: string): Promise<IssuedKey>;
  rotateKey(name: string, graceSeconds: number): Promise<IssuedKey>;
  revokeKey(name: string): Promise<AdminKey>;
  listTiers(): Promise<AdminTier[]>;
  putTier(name: string, tier: TierInput): Promise<AdminTier>;
  putSubject(id: string, subject: SubjectInput): Promise<AdminSubject>;
  spend(options: SpendQuery): Promise<SpendReport>;
  close(): Promise<void>;
}
