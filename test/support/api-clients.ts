import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashApiKey } from '#ledger';
import { unique } from './polling.js';

export interface NewApiClient {
  name: string;
  key: string;
}

/**
 * A new API client with a random key, inserted with SQL as an operator would, named
 * `<label>_<random>`: test files share the run's database, so each makes clients of its own.
 */
export async function insertApiClient(
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>,
  label: string,
  role: 'caller' | 'admin' = 'caller',
): Promise<NewApiClient> {
  const name = unique(label);
  const key = `tb_${role}_${randomBytes(12).toString('hex')}`;
  await sql('INSERT INTO api_clients (name, key_sha256, role) VALUES ($1, $2, $3)', [
    name,
    hashApiKey(key),
    role,
  ]);
  return { name, key };
}
