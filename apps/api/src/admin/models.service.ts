import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { runAudited } from './admin.audit.js';
import type { ModelDto } from './models.dto.js';
import { notFound } from './tiers.service.js';

const COLUMNS = `name, encoding, input_usd_per_mtok::text AS input_usd_per_mtok,
  cached_input_usd_per_mtok::text AS cached_input_usd_per_mtok,
  output_usd_per_mtok::text AS output_usd_per_mtok, default_max_tokens,
  token_multiplier::text AS token_multiplier`;

/** Models and their prices (SPEC §5 models); a row named `*` applies to unlisted models. */
@Injectable()
export class ModelsService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<Record<string, unknown>[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM models ORDER BY name`);
  }

  async get(name: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM models WHERE name = $1`, [name]);
    if (!row) {
      throw notFound('model', name);
    }
    return row as Record<string, unknown>;
  }

  async put(caller: Caller, name: string, dto: ModelDto): Promise<boolean> {
    const result = await runAudited(this.db, caller, {
      action: 'model.put',
      target: name,
      before: `SELECT to_jsonb(m) AS row FROM models m WHERE name = $3`,
      change: `INSERT INTO models AS m (name, encoding, input_usd_per_mtok, output_usd_per_mtok,
                 default_max_tokens, token_multiplier, cached_input_usd_per_mtok)
               VALUES ($3, $4, $5::numeric, $6::numeric, $7, $8::numeric, $9::numeric)
               ON CONFLICT (name) DO UPDATE SET
                 encoding = EXCLUDED.encoding,
                 input_usd_per_mtok = EXCLUDED.input_usd_per_mtok,
                 cached_input_usd_per_mtok = EXCLUDED.cached_input_usd_per_mtok,
                 output_usd_per_mtok = EXCLUDED.output_usd_per_mtok,
                 default_max_tokens = EXCLUDED.default_max_tokens,
                 token_multiplier = EXCLUDED.token_multiplier
               RETURNING to_jsonb(m.*) AS row`,
      params: [
        dto.encoding ?? null,
        dto.input_usd_per_mtok,
        dto.output_usd_per_mtok,
        dto.default_max_tokens,
        dto.token_multiplier ?? '1',
        dto.cached_input_usd_per_mtok ?? null,
      ],
    });
    return result.before === null;
  }

  async delete(caller: Caller, name: string): Promise<void> {
    const result = await runAudited(this.db, caller, {
      action: 'model.delete',
      target: name,
      before: `SELECT to_jsonb(m) AS row FROM models m WHERE name = $3`,
      change: `DELETE FROM models m WHERE name = $3 RETURNING to_jsonb(m.*) AS row`,
      deletes: true,
    });
    if (!result.changed) {
      throw notFound('model', name);
    }
  }
}
