import type { SpendReport } from '../../api/src/admin/spend.service.js';

/** A row as the admin API answers it (JSON). */
export type AdminRow = Record<string, unknown>;

export interface SpendOptions {
  from?: string;
  to?: string;
  group_by?: string;
  subject?: string;
  limit?: number;
}

/**
 * What the CLI's commands need, with the admin API's meaning: answered by the running service
 * (ApiBackend), or, when none is named, by the same services over the database (DatabaseBackend).
 * Failures are thrown as errors whose message is the sentence to print.
 */
export interface AdminBackend {
  /** Where the commands go, for messages: the service's URL or the database. */
  readonly target: string;
  listKeys(): Promise<AdminRow[]>;
  createKey(name: string, role: string): Promise<AdminRow>;
  rotateKey(name: string, graceSeconds: number): Promise<AdminRow>;
  revokeKey(name: string): Promise<AdminRow>;
  listTiers(): Promise<AdminRow[]>;
  putTier(name: string, tier: AdminRow): Promise<AdminRow>;
  putSubject(id: string, subject: AdminRow): Promise<AdminRow>;
  spend(options: SpendOptions): Promise<SpendReport>;
  close(): Promise<void>;
}
