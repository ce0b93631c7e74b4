import { InvalidRequestError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { type AuditedTable, deleteAudited, findRow, putAudited } from './admin.rows.js';
import type { SubjectDto, SubjectListQuery } from './subjects.dto.js';

const COLUMNS = 'id, tier, parent, created_at, updated_at';

const SUBJECTS: AuditedTable = {
  table: 'subjects',
  kind: 'subject',
  action: 'subject',
  keys: ['id'],
  columns: [['tier'], ['parent']],
};

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

  get(id: string): Promise<Record<string, unknown>> {
    return findRow(this.db, `SELECT ${COLUMNS} FROM subjects WHERE id = $1`, [id], 'subject', id);
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
    return putAudited(this.db, caller, SUBJECTS, [id], [dto.tier, parent]);
  }

  delete(caller: Caller, id: string): Promise<void> {
    return deleteAudited(this.db, caller, SUBJECTS, [id]);
  }
}
