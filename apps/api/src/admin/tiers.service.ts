import { ConflictError, NotFoundError, TierInUseError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../auth/caller.js';
import { runAudited, translate } from './admin.audit.js';
import { orNull } from './admin.fields.js';
import type { TierDto, TierModelLimitDto } from './tiers.dto.js';

/** A tier as the admin API shows it: money as exact decimal text. */
const TIER_COLUMNS = `name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent,
  daily_cost_limit_usd::text AS daily_cost_limit_usd,
  monthly_cost_limit_usd::text AS monthly_cost_limit_usd, updated_at,
  (SELECT count(*) FROM subjects s WHERE s.tier = t.name)::int AS subjects`;

const LIMIT_COLUMNS = 'tier, model, requests_per_minute, tokens_per_minute';

/** Tiers and their per-model limits (SPEC §5 tiers, tier_model_limits). */
@Injectable()
export class TiersService {
  constructor(private readonly db: DataSource) {}

  async list(): Promise<Record<string, unknown>[]> {
    return this.db.query(`SELECT ${TIER_COLUMNS} FROM tiers t ORDER BY name`);
  }

  async get(name: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query(`SELECT ${TIER_COLUMNS} FROM tiers t WHERE name = $1`, [
      name,
    ]);
    if (!row) {
      throw notFound('tier', name);
    }
    const limits = await this.db.query(
      `SELECT ${LIMIT_COLUMNS} FROM tier_model_limits WHERE tier = $1 ORDER BY model`,
      [name],
    );
    return { ...row, model_limits: limits };
  }

  /** Creates or replaces; answers whether it created. */
  async put(caller: Caller, name: string, dto: TierDto): Promise<boolean> {
    const result = await runAudited(this.db, caller, {
      action: 'tier.put',
      target: name,
      before: `SELECT to_jsonb(t) AS row FROM tiers t WHERE name = $3`,
      change: `INSERT INTO tiers AS t (name, requests_per_minute, tokens_per_minute, token_burst,
                 max_concurrent, daily_cost_limit_usd, monthly_cost_limit_usd)
               VALUES ($3, $4, $5, $6, $7, $8::numeric, $9::numeric)
               ON CONFLICT (name) DO UPDATE SET
                 requests_per_minute = EXCLUDED.requests_per_minute,
                 tokens_per_minute = EXCLUDED.tokens_per_minute,
                 token_burst = EXCLUDED.token_burst,
                 max_concurrent = EXCLUDED.max_concurrent,
                 daily_cost_limit_usd = EXCLUDED.daily_cost_limit_usd,
                 monthly_cost_limit_usd = EXCLUDED.monthly_cost_limit_usd
               RETURNING to_jsonb(t.*) AS row`,
      params: [
        orNull(dto.requests_per_minute),
        orNull(dto.tokens_per_minute),
        orNull(dto.token_burst),
        orNull(dto.max_concurrent),
        orNull(dto.daily_cost_limit_usd),
        orNull(dto.monthly_cost_limit_usd),
      ],
    });
    return result.before === null;
  }

  /** 409 while a subject still uses it; its per-model limits go with it. */
  async delete(caller: Caller, name: string): Promise<void> {
    const [used] = await this.db.query(`SELECT count(*)::int AS n FROM subjects WHERE tier = $1`, [
      name,
    ]);
    if ((used as { n: number }).n > 0) {
      throw new TierInUseError(name, (used as { n: number }).n);
    }
    const result = await runAudited(this.db, caller, {
      action: 'tier.delete',
      target: name,
      before: `SELECT to_jsonb(t) AS row FROM tiers t WHERE name = $3`,
      change: `DELETE FROM tiers t WHERE name = $3 RETURNING to_jsonb(t.*) AS row`,
      deletes: true,
    }).catch((error: unknown) => {
      // A subject added between the count and the delete: the foreign key refuses.
      if (error instanceof ConflictError) {
        throw new TierInUseError(name, 1);
      }
      throw error;
    });
    if (!result.changed) {
      throw notFound('tier', name);
    }
  }

  async getModelLimit(tier: string, model: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query(
      `SELECT ${LIMIT_COLUMNS} FROM tier_model_limits WHERE tier = $1 AND model = $2`,
      [tier, model],
    );
    if (!row) {
      throw notFound('tier model limit', `${tier}/${model}`);
    }
    return row as Record<string, unknown>;
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
    const result = await runAudited(this.db, caller, {
      action: 'tier_model_limit.put',
      target: `${tier}/${model}`,
      before: `SELECT to_jsonb(l) AS row FROM tier_model_limits l WHERE tier = $4 AND model = $5`,
      change: `INSERT INTO tier_model_limits AS l (tier, model, requests_per_minute, tokens_per_minute)
               VALUES ($4, $5, $6, $7)
               ON CONFLICT (tier, model) DO UPDATE SET
                 requests_per_minute = EXCLUDED.requests_per_minute,
                 tokens_per_minute = EXCLUDED.tokens_per_minute
               RETURNING to_jsonb(l.*) AS row`,
      params: [tier, model, orNull(dto.requests_per_minute), orNull(dto.tokens_per_minute)],
    });
    return result.before === null;
  }

  async deleteModelLimit(caller: Caller, tier: string, model: string): Promise<void> {
    const result = await runAudited(this.db, caller, {
      action: 'tier_model_limit.delete',
      target: `${tier}/${model}`,
      before: `SELECT to_jsonb(l) AS row FROM tier_model_limits l WHERE tier = $4 AND model = $5`,
      change: `DELETE FROM tier_model_limits l WHERE tier = $4 AND model = $5
               RETURNING to_jsonb(l.*) AS row`,
      deletes: true,
      params: [tier, model],
    });
    if (!result.changed) {
      throw notFound('tier model limit', `${tier}/${model}`);
    }
  }
}

export function notFound(kind: string, name: string): NotFoundError {
  return new NotFoundError(kind, name);
}
