import type { DataSource } from 'typeorm';
import {
  type CatalogueSnapshot,
  type CatalogueTable,
  type ModelLimitEntry,
  type SkippedRow,
  modelLimitKey,
} from './catalogue.types.js';
import {
  type ModelRow,
  type TierRow,
  UnusableRowError,
  modelEntry,
  tierEntry,
} from './catalogue.rows.js';

interface ModelLimitRow {
  tier: string;
  model: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

/** What one load read: the tables asked for, and the rows of them it could not use. */
export interface LoadedTables {
  snapshot: Partial<CatalogueSnapshot>;
  skipped: Partial<Record<CatalogueTable, SkippedRow[]>>;
}

/**
 * Reads the catalogue tables into immutable maps. Plain statements, no transaction: a read that
 * races an edit is corrected by the reload that edit's notification triggers right after.
 * Numerics are read as text so prices and limits convert exactly. A row the service cannot use
 * (an amount too large to hold exactly, an unknown encoding) is left out and reported, so one
 * bad row never takes the rest of the catalogue down.
 */
export class CatalogueRepository {
  constructor(private readonly dataSource: DataSource) {}

  async load(tables: ReadonlySet<CatalogueTable>): Promise<LoadedTables> {
    const snapshot: Partial<CatalogueSnapshot> = {};
    const skipped: LoadedTables['skipped'] = {};
    if (tables.has('tiers')) {
      const rows: TierRow[] = await this.dataSource.query(
        `SELECT name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent,
                daily_cost_limit_usd::text AS daily_cost_limit_usd,
                monthly_cost_limit_usd::text AS monthly_cost_limit_usd,
                (SELECT array_agg(DISTINCT t ORDER BY t) FROM unnest(alert_thresholds) AS t)
                  AS alert_thresholds
         FROM tiers`,
      );
      snapshot.tiers = usable(rows, tierEntry, (skipped.tiers = []));
    }
    if (tables.has('subjects')) {
      const { tiers, parents } = await this.loadSubjects();
      snapshot.subjects = tiers;
      snapshot.parents = parents;
    }
    if (tables.has('models')) {
      const rows: ModelRow[] = await this.dataSource.query(
        `SELECT name, encoding, input_usd_per_mtok::text AS input_usd_per_mtok,
                cached_input_usd_per_mtok::text AS cached_input_usd_per_mtok,
                output_usd_per_mtok::text AS output_usd_per_mtok, default_max_tokens,
                token_multiplier::text AS token_multiplier
         FROM models`,
      );
      snapshot.models = usable(rows, modelEntry, (skipped.models = []));
    }
    if (tables.has('tier_model_limits')) {
      snapshot.modelLimits = await this.loadModelLimits();
    }
    return { snapshot, skipped };
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

function usable<R extends { name: string }, E>(
  rows: R[],
  entry: (row: R) => E,
  skipped: SkippedRow[],
): Map<string, E> {
  const entries = new Map<string, E>();
  for (const row of rows) {
    try {
      entries.set(row.name, entry(row));
    } catch (error) {
      if (!(error instanceof UnusableRowError)) {
        throw error;
      }
      skipped.push({ row: row.name, reason: error.message });
    }
  }
  return entries;
}
