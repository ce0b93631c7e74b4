import { ConflictError, TierInUseError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { translate } from './admin.audit.js';
import { orNull } from './admin.fields.js';
import { type AuditedTable, deleteAudited, findRow, notFound, putAudited } from './admin.rows.js';
import type { TierDto, TierModelLimitDto } from './tiers.dto.js';

/** A tier as the admin API shows it: money as exact decimal text. */
const TIER_COLUMNS = `name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent,
  daily_cost_limit_usd::text AS daily_cost_limit_usd,
  monthly_cost_limit_usd::text AS monthly_cost_limit_usd, updated_at,
  (SELECT count(*) FROM subjects s WHERE s.tier = t.name)::int AS subjects`;

const LIMIT_COLUMNS = 'tier, model, requests_per_minute, tokens_per_minute';

const TIERS: AuditedTable = {
  table: 'tiers',
  kind: 'tier',
  action: 'tier',
  keys: ['name'],
  columns: [
    ['requests_per_minute'],
    ['tokens_per_minute'],
    ['token_burst'],
    ['max_concurrent'],
    ['daily_cost_limit_usd', 'numeric'],
    ['monthly_cost_limit_usd', 'numeric'],
  ],
};

const MODEL_LIMITS: AuditedTable = {
  table: 'tier_model_limits',
  kind: 'tier model limit',
  action: 'tier_model_limit',
  keys: ['tier', 'model'],
  columns: [['requests_per_minute'], ['tokens_per_minute']],
};

/** Tiers and their per-model limits (SPEC §5 tiers, tier_model_limits). */
@Injectable()
export class TiersService {
  constructor(private readonly db: DataSource) {}

  async list(): Promise<Record<string, unknown>[]> {
    return this.db.query(`SELECT ${TIER_COLUMNS} FROM tiers t ORDER BY name`);
  }

  async get(name: string): Promise<Record<string, unknown>> {
    const row = await findRow(
      this.db,
      `SELECT ${TIER_COLUMNS} FROM tiers t WHERE name = $1`,
      [name],
      'tier',
      name,
    );
    const limits = await this.db.query(
      `SELECT ${LIMIT_COLUMNS} FROM tier_model_limits WHERE tier = $1 ORDER BY model`,
      [name],
    );
    return { ...row, model_limits: limits };
  }

  /** Creates or replaces; answers whether it created. */
  put(caller: Caller, name: string, dto: TierDto): Promise<boolean> {
    return putAudited(
      this.db,
      caller,
      TIERS,
      [name],
      [
        orNull(dto.requests_per_minute),
        orNull(dto.tokens_per_minute),
        orNull(dto.token_burst),
        orNull(dto.max_concurrent),
        orNull(dto.daily_cost_limit_usd),
        orNull(dto.monthly_cost_limit_usd),
      ],
    );
  }

  /** 409 while a subject still uses it; its per-model limits go with it. */
  async delete(caller: Caller, name: string): Promise<void> {
    const [used] = await this.db.query(`SELECT count(*)::int AS n FROM subjects WHERE tier = $1`, [
      name,
    ]);
    if ((used as { n: number }).n > 0) {
      throw new TierInUseError(name, (used as { n: number }).n);
    }
    await deleteAudited(this.db, caller, TIERS, [name]).catch((error: unknown) => {
      // A subject added between the count and the delete: the foreign key refuses.
      if (error instanceof ConflictError) {
        throw new TierInUseError(name, 1);
      }
      throw error;
    });
  }

  getModelLimit(tier: string, model: string): Promise<Record<string, unknown>> {
    return findRow(
      this.db,
      `SELECT ${LIMIT_COLUMNS} FROM tier_model_limits WHERE tier = $1 AND model = $2`,
      [tier, model],
      'tier model limit',
      `${tier}/${model}`,
    );
  }

  async putModelLimit(
    caller: Caller,
    tier: string,
    model: string,
    dto: TierModelLimitDto,
  ): Promise<boolean> {
    const exists = await this.db
      .query(`SELECT 1 FROM tiers WHERE name = $1`, [tier])
      .catch((error: unknown) => {
        throw translate(error);
      });
    if ((exists as unknown[]).length === 0) {
      throw notFound('tier', tier);
    }
    return putAudited(
      this.db,
      caller,
      MODEL_LIMITS,
      [tier, model],
      [orNull(dto.requests_per_minute), orNull(dto.tokens_per_minute)],
    );
  }

  deleteModelLimit(caller: Caller, tier: string, model: string): Promise<void> {
    return deleteAudited(this.db, caller, MODEL_LIMITS, [tier, model]);
  }
}
