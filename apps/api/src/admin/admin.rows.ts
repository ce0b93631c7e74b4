import { NotFoundError } from '#kernel';
import type { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { runAudited } from './admin.audit.js';

/**
 * One catalogue table as the admin API edits it: PUT replaces a row by its key (creating it when
 * absent), DELETE removes it, each with its admin_audit row in the same statement (runAudited).
 */
export interface AuditedTable {
  table: string;
  /** In messages: `No <kind> named "..."`. */
  kind: string;
  /** The audit actions are `<action>.put` and `<action>.delete`. */
  action: string;
  /** The key columns; the audit target is their values joined by `/`. */
  keys: readonly string[];
  /** The columns a PUT replaces, in the order of its values, each with its SQL cast if any. */
  columns: readonly (readonly [name: string, cast?: string])[];
}

export function notFound(kind: string, name: string): NotFoundError {
  return new NotFoundError(kind, name);
}

/** The key columns matched to parameters $4.. (runAudited's $1..$3 are actor, action, target). */
function byKey(table: AuditedTable): string {
  return table.keys.map((key, i) => `${key} = $${4 + i}`).join(' AND ');
}

/** Creates or replaces the row with `key`'s values; answers whether it created it. */
export async function putAudited(
  db: DataSource,
  caller: Caller,
  table: AuditedTable,
  key: readonly string[],
  values: readonly unknown[],
): Promise<boolean> {
  const columns = table.columns.map(([name]) => name);
  const placeholders = [
    ...table.keys.map((_, i) => `$${4 + i}`),
    ...table.columns.map(
      ([, cast], i) => `$${4 + table.keys.length + i}${cast ? `::${cast}` : ''}`,
    ),
  ];
  const result = await runAudited(db, caller, {
    action: `${table.action}.put`,
    target: key.join('/'),
    before: `SELECT to_jsonb(r) AS row FROM ${table.table} r WHERE ${byKey(table)}`,
    change: `INSERT INTO ${table.table} AS r (${[...table.keys, ...columns].join(', ')})
             VALUES (${placeholders.join(', ')})
             ON CONFLICT (${table.keys.join(', ')}) DO UPDATE SET
               ${columns.map((name) => `${name} = EXCLUDED.${name}`).join(', ')}
             RETURNING to_jsonb(r.*) AS row`,
    params: [...key, ...values],
  });
  return result.before === null;
}

/** Deletes the row with `key`'s values; 404 not_found when there is none. */
export async function deleteAudited(
  db: DataSource,
  caller: Caller,
  table: AuditedTable,
  key: readonly string[],
): Promise<void> {
  const result = await runAudited(db, caller, {
    action: `${table.action}.delete`,
    target: key.join('/'),
    before: `SELECT to_jsonb(r) AS row FROM ${table.table} r WHERE ${byKey(table)}`,
    change: `DELETE FROM ${table.table} r WHERE ${byKey(table)} RETURNING to_jsonb(r.*) AS row`,
    deletes: true,
    params: [...key],
  });
  if (!result.changed) {
    throw notFound(table.kind, key.join('/'));
  }
}

/** The one row `sql` selects, or 404 not_found naming it. */
export async function findRow(
  db: DataSource,
  sql: string,
  params: unknown[],
  kind: string,
  name: string,
): Promise<Record<string, unknown>> {
  const [row] = (await db.query(sql, params)) as Record<string, unknown>[];
  if (!row) {
    throw notFound(kind, name);
  }
  return row;
}
