import type { Pricing } from '#budget';

/** A `tiers` row; null is unlimited. */
export interface TierEntry {
  name: string;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokenBurst: number | null;
  maxConcurrent: number | null;
  dailyCostLimitMicros: number | null;
  monthlyCostLimitMicros: number | null;
  /** Percentages of the cost limits at which a budget alert is raised, ascending; null = none. */
  alertThresholds: readonly number[] | null;
}

/** A `models` row, priced in integer pico-dollars per token. */
export interface ModelEntry {
  /**
   * The name limits and the ledger use: the row's own name (`gpt-4o` for `openai/gpt-4o` or
   * `gpt-4o-2024-08-06`), or the name asked for when the `*` row applies.
   */
  name: string;
  /** The models row that applies: the resolved name, or `*` for a name without a row. */
  row: string;
  /** A tiktoken encoding name; null lets the tokenizer choose. */
  encoding: string | null;
  tokenMultiplier: number;
  defaultMaxTokens: number;
  pricing: Pricing;
}

/** A `tier_model_limits` row; null is unlimited. */
export interface ModelLimitEntry {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

export const CATALOGUE_TABLES = ['tiers', 'subjects', 'models', 'tier_model_limits'] as const;
export type CatalogueTable = (typeof CATALOGUE_TABLES)[number];

/** One consistent, immutable picture of the four catalogue tables. */
export interface CatalogueSnapshot {
  tiers: ReadonlyMap<string, TierEntry>;
  /** subject id → tier name. */
  subjects: ReadonlyMap<string, string>;
  /** subject id → its parent's id, for the subjects that have one. */
  parents: ReadonlyMap<string, string>;
  /** Keyed by row name; the entry's `name` is the row name too. */
  models: ReadonlyMap<string, ModelEntry>;
  /** Keyed by modelLimitKey(tier, model). */
  modelLimits: ReadonlyMap<string, ModelLimitEntry>;
}

export function modelLimitKey(tier: string, model: string): string {
  // NUL cannot occur in Postgres text, so it cannot make two pairs collide.
  return `${tier}\u0000${model}`;
}

/** A row left out of the catalogue because the service cannot use it, and why. */
export interface SkippedRow {
  row: string;
  reason: string;
}
