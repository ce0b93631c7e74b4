import type { DataSource } from 'typeorm';
import {
  type CatalogueSnapshot,
  type CatalogueTable,
  type ModelEntry,
  type ModelLimitEntry,
  type TierEntry,
  modelLimitKey,
} from './catalogue.types.js';
import { usdPerMtokToPicosPerToken, usdToMicros } from '#kernel';

interface TierRow {
  name: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  token_burst: number | null;
  max_concurrent: number | null;
  daily_cost_limit_usd: string | null;
  monthly_cost_limit_usd: string | null;
}

interface ModelRow {
  name: string;
  encoding: string | null;
  input_usd_per_mtok: string;
  cached_input_usd_per_mtok: string | null;
  output_usd_per_mtok: string;
  default_max_tokens: number;
  token_multiplier: string;
}

interface ModelLimitRow {
  tier: string;
  model: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

/**
 * Reads the catalogue tables into immutable maps. Plain statements, no transaction: a read that
 * races an edit is corrected by the reload that edit's notification triggers right after.
 * Numerics are read as text so prices and limits convert exactly.
 */
export class CatalogueRepository {
  constructor(private readonly dataSource: DataSource) {}

  async load(tables: ReadonlySet<CatalogueTable>): Promise<Partial<CatalogueSnapshot>> {
    const snapshot: Partial<CatalogueSnapshot> = {};
    if (tables.has('tiers')) {
      snapshot.tiers = await this.loadTiers();
    }
    if (tables.has('subjects')) {
      const { tiers, parents } = await this.loadSubjects();
      snapshot.subjects = tiers;
      snapshot.parents = parents;
    }
    if (tables.has('models')) {
      snapshot.models = await this.loadModels();
    }
    if (tables.has('tier_model_limits')) {
      snapshot.modelLimits = await this.loadModelLimits();
    }
    return snapshot;
  }

  private async loadTiers(): Promise<Map<string, TierEntry>> {
    const rows: TierRow[] = await this.dataSource.query(
      `SELECT name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent,
              daily_cost_limit_usd::text AS daily_cost_limit_usd,
              monthly_cost_limit_usd::text AS monthly_cost_limit_usd
       FROM tiers`,
    );
    return new Map(
      rows.map((row) => [
        row.name,
        Object.freeze({
          name: row.name,
          requestsPerMinute: row.requests_per_minute,
          tokensPerMinute: row.tokens_per_minute,
          tokenBurst: row.token_burst,
          maxConcurrent: row.max_concurrent,
          dailyCostLimitMicros:
            row.daily_cost_limit_usd === null ? null : usdToMicros(row.daily_cost_limit_usd),
          monthlyCostLimitMicros:
            row.monthly_cost_limit_usd === null ? null : usdToMicros(row.monthly_cost_limit_usd),
        }),
      ]),
    );
  }

  /**
   * Every subject row in memory: fine for the tens of thousands of rows expected now (about
   * 100 bytes each). A far larger table would call for a per-subject lookup with a small cache.
   */
  private async loadSubjects(): Promise<{
    tiers: Map<string, string>;
    parents: Map<string, string>;
  }> {
    const rows: { id: string; tier: string; parent: string | null }[] = await this.dataSource.query(
      `SELECT id, tier, parent FROM subjects`,
    );
    const parents = new Map<string, string>();
    for (const row of rows) {
      if (row.parent !== null) {
        parents.set(row.id, row.parent);
      }
    }
    return { tiers: new Map(rows.map((row) => [row.id, row.tier])), parents };
  }

  private async loadModels(): Promise<Map<string, ModelEntry>> {
    const rows: ModelRow[] = await this.dataSource.query(
      `SELECT name, encoding, input_usd_per_mtok::text AS input_usd_per_mtok,
              cached_input_usd_per_mtok::text AS cached_input_usd_per_mtok,
              output_usd_per_mtok::text AS output_usd_per_mtok, default_max_tokens,
              token_multiplier::text AS token_multiplier
       FROM models`,
    );
    return new Map(
      rows.map((row) => [
        row.name,
        Object.freeze({
          name: row.name,
          row: row.name,
          encoding: row.encoding,
          // A multiplier scales token counts that are rounded up anyway: a float is precise enough.
          tokenMultiplier: Number(row.token_multiplier),
          defaultMaxTokens: row.default_max_tokens,
          pricing: Object.freeze({
            inputPicosPerToken: usdPerMtokToPicosPerToken(row.input_usd_per_mtok),
            outputPicosPerToken: usdPerMtokToPicosPerToken(row.output_usd_per_mtok),
            // NULL: cached input is priced as any input (Pricing leaves it out).
            ...(row.cached_input_usd_per_mtok === null
              ? {}
              : {
                  cachedInputPicosPerToken: usdPerMtokToPicosPerToken(
                    row.cached_input_usd_per_mtok,
                  ),
                }),
          }),
        }),
      ]),
    );
  }

  private async loadModelLimits(): Promise<Map<string, ModelLimitEntry>> {
    const rows: ModelLimitRow[] = await this.dataSource.query(
      `SELECT tier, model, requests_per_minute, tokens_per_minute FROM tier_model_limits`,
    );
    return new Map(
      rows.map((row) => [
        modelLimitKey(row.tier, row.model),
        Object.freeze({
          requestsPerMinute: row.requests_per_minute,
          tokensPerMinute: row.tokens_per_minute,
        }),
      ]),
    );
  }
}
