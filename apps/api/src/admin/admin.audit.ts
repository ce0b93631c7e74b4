import { ConflictError, InvalidRequestError } from '#kernel';
import type { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';

/**
 * One admin change and its admin_audit row in a single statement: atomic on its own (embedded
 * PGlite shares one session between all callers, so no BEGIN/COMMIT), and the catalogue tables'
 * statement triggers NOTIFY every instance exactly as an SQL edit does.
 *
 * `before` selects the row as it was (`SELECT to_jsonb(t) AS row ...`), `change` modifies it
 * and returns the new row (`... RETURNING to_jsonb(t.*) AS row`). Parameters $1..$3 are the
 * actor, the action and the target; the statements' own parameters start at $4.
 */
export interface AuditedChange {
  action: string;
  target: string;
  before: string;
  change: string;
  /** More data-modifying CTEs run between `before` and `change` (`name AS (...), ...`). */
  also?: string;
  /** A deletion records `after` as NULL. */
  deletes?: boolean;
  params?: unknown[];
}

export interface AuditedResult {
  /** Whether the change touched a row (false: nothing matched). */
  changed: boolean;
  before: unknown;
  after: unknown;
}

export async function runAudited(
  db: DataSource,
  actor: Caller,
  change: AuditedChange,
): Promise<AuditedResult> {
  const sql = `
    WITH before AS (${change.before}),${change.also ? `\n    ${change.also},` : ''}
    changed AS (${change.change}),
    audit AS (
      INSERT INTO admin_audit (actor, action, target, before, after)
      SELECT $1, $2, $3, (SELECT row FROM before LIMIT 1), ${change.deletes ? 'NULL' : 'changed.row'}
      FROM changed
      RETURNING id
    )
    SELECT (SELECT row FROM before LIMIT 1) AS before, (SELECT row FROM changed LIMIT 1) AS after,
           (SELECT count(*) FROM audit)::int AS audited`;
  const rows: { before: unknown; after: unknown; audited: number }[] = await db
    .query(sql, [actor.name, change.action, change.target, ...(change.params ?? [])])
    .catch((error: unknown) => {
      throw translate(error);
    });
  const row = rows[0]!;
  return { changed: row.audited > 0, before: row.before, after: change.deletes ? null : row.after };
}

/** Constraint violations a client caused, as 4xx in the one error body; anything else as is. */
export function translate(error: unknown): unknown {
  const { code, constraint, detail } = error as {
    code?: string;
    constraint?: string;
    detail?: string;
  };
  const about = [constraint, detail].filter(Boolean).join(': ');
  if (code === '23503') {
    return new ConflictError(
      `The change breaks a reference (${about || 'foreign key'}): a row it points to is missing, or rows still point to it.`,
      { constraint },
    );
  }
  if (code === '23505') {
    return new ConflictError(`Already exists (${about || 'unique'}).`, { constraint });
  }
  // Check constraints, out-of-range numbers, and refusals raised by triggers (P0001, or a
  // check_violation such as the subjects scope trigger's): its sentence says what was wrong.
  if (code === '23514' || code === '22003' || code === '22P02' || code === 'P0001') {
    const reason = detail || (error as Error).message || about;
    return new InvalidRequestError(`The database refused the change: ${reason}.`, { constraint });
  }
  return error;
}
