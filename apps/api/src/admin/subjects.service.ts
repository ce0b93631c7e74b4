import { InvalidRequestError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { runAudited } from './admin.audit.js';
import type { SubjectDto, SubjectListQuery } from './subjects.dto.js';
import { notFound } from './tiers.service.js';

const COLUMNS = 'id, tier, created_at, updated_at';

/** Subjects and their tiers (SPEC §5 subjects); a subject without a row has DEFAULT_TIER. */
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
       ORDER BY id COLLATE "C" LIMIT $3`,
      [query.tier ?? null, query.cursor ?? null, limit + 1],
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
    const result = await runAudited(this.db, caller, {
      action: 'subject.put',
      target: id,
      before: `SELECT to_jsonb(s) AS row FROM subjects s WHERE id = $3`,
      change: `INSERT INTO subjects AS s (id, tier) VALUES ($3, $4)
               ON CONFLICT (id) DO UPDATE SET tier = EXCLUDED.tier
               RETURNING to_jsonb(s.*) AS row`,
      params: [dto.tier],
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
