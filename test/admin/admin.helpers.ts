import { afterAll, beforeAll } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { startTestApp, type TestApp } from '../support/app.harness.js';
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

/** A running service and an admin key of its own, for the tests of one file. */
export interface AdminApp {
  readonly t: TestApp;
  readonly admin: AdminKey;
}

/** Starts the service before the file's tests (and stops it after); its parts once started. */
export function useAdminApp(): AdminApp {
  let t: TestApp | undefined;
  let admin: AdminKey | undefined;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await adminKey(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  return {
    get t() {
      return t!;
    },
    get admin() {
      return admin!;
    },
  };
}
