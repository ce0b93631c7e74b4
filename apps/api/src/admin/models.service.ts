import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { type AuditedTable, deleteAudited, findRow, putAudited } from './admin.rows.js';
import type { ModelDto } from './models.dto.js';

const COLUMNS = `name, encoding, input_usd_per_mtok::text AS input_usd_per_mtok,
  cached_input_usd_per_mtok::text AS cached_input_usd_per_mtok,
  output_usd_per_mtok::text AS output_usd_per_mtok, default_max_tokens,
  token_multiplier::text AS token_multiplier`;

const MODELS: AuditedTable = {
  table: 'models',
  kind: 'model',
  action: 'model',
  keys: ['name'],
  columns: [
    ['encoding'],
    ['input_usd_per_mtok', 'numeric'],
    ['output_usd_per_mtok', 'numeric'],
    ['default_max_tokens'],
    ['token_multiplier', 'numeric'],
    ['cached_input_usd_per_mtok', 'numeric'],
  ],
};

/** Models and their prices (SPEC §5 models); a row named `*` applies to unlisted models. */
@Injectable()
export class ModelsService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<Record<string, unknown>[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM models ORDER BY name`);
  }

  get(name: string): Promise<Record<string, unknown>> {
    return findRow(this.db, `SELECT ${COLUMNS} FROM models WHERE name = $1`, [name], 'model', name);
  }

  put(caller: Caller, name: string, dto: ModelDto): Promise<boolean> {
    return putAudited(
      this.db,
      caller,
      MODELS,
      [name],
      [
        dto.encoding ?? null,
        dto.input_usd_per_mtok,
        dto.output_usd_per_mtok,
        dto.default_max_tokens,
        dto.token_multiplier ?? '1',
        dto.cached_input_usd_per_mtok ?? null,
      ],
    );
  }

  delete(caller: Caller, name: string): Promise<void> {
    return deleteAudited(this.db, caller, MODELS, [name]);
  }
}
