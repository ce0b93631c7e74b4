import { insertApiClient } from '../support/api-clients.js';
import type { TestApp } from '../support/app.harness.js';
import { httpClient, type Requester } from '../support/http.client.js';

export interface AdminKey {
  name: string;
  key: string;
  request: Requester;
}

/** A fresh admin key (inserted with SQL, as an operator would) and a requester using it. */
export async function adminKey(t: TestApp, prefix = 'admin'): Promise<AdminKey> {
  const { name, key } = await insertApiClient(t.sql, prefix, 'admin');
  return { name, key, request: httpClient(t.url, key) };
}

/** The audit rows about one target, oldest first. */
export async function auditRows(
  t: TestApp,
  target: string,
): Promise<{ actor: string; action: string; before: unknown; after: unknown }[]> {
  const { rows } = await t.sql(
    'SELECT actor, action, before, after FROM admin_audit WHERE target = $1 ORDER BY id',
    [target],
  );
  return rows as { actor: string; action: string; before: unknown; after: unknown }[];
}
