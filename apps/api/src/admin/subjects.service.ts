import { InvalidRequestError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { runAudited } from './admin.audit.js';
import type { SubjectDto, SubjectListQuery } from './subjects.dto.js';
import { notFound } from './tiers.service.js';

const COLUMNS = 'id, tier, parent, created_at, updated_at';

/**
 * Subjects, their tiers and parents (SPEC §5 subjects); a subject without a row has DEFAULT_TIER
 * and no parent. The database refuses a parent that makes a cycle or a scope deeper than 4.
 */
@Injectable()
export class SubjectsService {
  constructor(private readonly db: DataSource) {}

  async list(
    query: SubjectListQuery,
  ): Promise<{ subjects: unknown[]; next_cursor: string | null }> {
    const limit = query.limit ?? 100;
    const rows: { id: string }[] = await this.db.query(
      `SELECT ${COLUMNS} FROM subjects
       WHERE ($1::text IS NULL OR tier = $1) AND ($2::text IS NULL OR id > $2)
         AND ($4::text IS NULL OR parent = $4)
       ORDER BY id COLLATE "C" LIMIT $3`,
      [query.tier ?? null, query.cursor ?? null, limit + 1, query.parent ?? null],
    );
    const page = rows.slice(0, limit);
    return {
      subjects: page,
      next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
    };
  }

  async get(id: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM subjects WHERE id = $1`, [id]);
    if (!row) {
      throw notFound('subject', id);
    }
    return row as Record<string, unknown>;
  }

  async put(caller: Caller, id: string, dto: SubjectDto): Promise<boolean> {
    const [tier] = await this.db.query(`SELECT 1 FROM tiers WHERE name = $1`, [dto.tier]);
    if (!tier) {
      throw new InvalidRequestError(`No tier named "${dto.tier}".`);
    }
    const parent = dto.parent ?? null;
    if (parent !== null && parent !== id) {
      const [found] = await this.db.query(`SELECT 1 FROM subjects WHERE id = $1`, [parent]);
      if (!found) {
        throw new InvalidRequestError(
          `No subject named "${parent}": give the parent a row (PUT it) before its members.`,
        );
      }
    }
    // A cycle or a scope deeper than 4 is refused by the subjects trigger: a 400 (translate()).
    const result = await runAudited(this.db, caller, {
      action: 'subject.put',
      target: id,
      before: `SELECT to_jsonb(s) AS row FROM subjects s WHERE id = $3`,
      change: `INSERT INTO subjects AS s (id, tier, parent) VALUES ($3, $4, $5)
               ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier, parent = EXCLUDED.parent
               RETURNING to_jsonb(s.*) AS row`,
      params: [dto.tier, parent],
    });
    return result.before === null;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const result = await runAudited(this.db, caller, {
      action: 'subject.delete',
      target: id,
      before: `SELECT to_jsonb(s) AS row FROM subjects s WHERE id = $3`,
      change: `DELETE FROM subjects s WHERE id = $3 RETURNING to_jsonb(s.*) AS row`,
      deletes: true,
    });
    if (!result.changed) {
      throw notFound('subject', id);
    }
  }
}
