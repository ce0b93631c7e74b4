/**
 * The /v1/admin bodies as the service answers them (SPEC §4 "Admin API", the OpenAPI document's
 * Admin* schemas); money is exact decimal text, times ISO 8601 strings, null limits unlimited.
 */

export interface AdminTier {
  name: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  token_burst: number | null;
  max_concurrent: number | null;
  daily_cost_limit_usd: string | null;
  monthly_cost_limit_usd: string | null;
  updated_at: string;
  /** Subjects with this tier. */
  subjects: number;
}

/** One tier as GET and PUT answer it: with its per-model limits. */
export interface AdminTierDetail extends AdminTier {
  model_limits: AdminTierModelLimit[];
}

/** PUT replaces the whole tier: an absent or null limit is unlimited. */
export interface TierInput {
  requests_per_minute?: number | null;
  tokens_per_minute?: number | null;
  token_burst?: number | null;
  max_concurrent?: number | null;
  /** USD, e.g. "12.5" (a JSON number is taken too). */
  daily_cost_limit_usd?: string | number | null;
  monthly_cost_limit_usd?: string | number | null;
}

export interface AdminTierModelLimit {
  tier: string;
  model: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
}

export interface TierModelLimitInput {
  requests_per_minute?: number | null;
  tokens_per_minute?: number | null;
}

export interface AdminSubject {
  id: string;
  tier: string;
  parent: string | null;
  created_at: string;
  updated_at: string;
}

/** PUT replaces the row: an absent parent means none. */
export interface SubjectInput {
  tier: string;
  parent?: string | null;
}

export interface SubjectListQuery {
  tier?: string;
  /** Only the direct children of this subject. */
  parent?: string;
  /** The previous page's next_cursor. */
  cursor?: string;
  /** Page size, 1 to 1000 (default 100). */
  limit?: number;
}

export interface SubjectPage {
  subjects: AdminSubject[];
  /** null on the last page. */
  next_cursor: string | null;
}

export interface AdminModel {
  name: string;
  encoding: string | null;
  input_usd_per_mtok: string;
  cached_input_usd_per_mtok: string | null;
  output_usd_per_mtok: string;
  default_max_tokens: number;
  token_multiplier: string;
}

export interface ModelInput {
  /** A tiktoken encoding (o200k_base, cl100k_base, …); absent: chosen by model family. */
  encoding?: string | null;
  input_usd_per_mtok: string | number;
  cached_input_usd_per_mtok?: string | number | null;
  output_usd_per_mtok: string | number;
  default_max_tokens: number;
  /** Default "1". */
  token_multiplier?: string | number;
}

export type KeyRole = 'caller' | 'admin';

/** An API client as listed: never the key nor its hash. */
export interface AdminKey {
  name: string;
  role: KeyRole;
  created_at: string;
  revoked_at: string | null;
  /** Until when the key replaced by the last rotation still works. */
  previous_key_expires_at?: string | null;
}

/** The answer that made a key (create, rotate): the key itself, shown this once. */
export interface IssuedKey extends AdminKey {
  key: string;
}

export type SpendGroup = 'subject' | 'model' | 'tier' | 'caller' | 'day';

export interface SpendQuery {
  /** First UTC day YYYY-MM-DD, inclusive (default: the 1st of this month). */
  from?: string;
  /** Last UTC day, inclusive (default: today). */
  to?: string;
  group_by?: SpendGroup;
  /** Only this subject and its descendants. */
  subject?: string;
  /** Most rows, 1 to 10000 (default 100). */
  limit?: number;
}

export interface SpendRow {
  /** The group; null for a caller not recorded. */
  key: string | null;
  cost_usd: string;
  /** Charged ledger rows (cost > 0). */
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

export interface SpendReport {
  from: string;
  to: string;
  group_by: SpendGroup;
  rows: SpendRow[];
  /** Over every group, not only the rows shown. */
  total: Omit<SpendRow, 'key'>;
}

export interface AlertQuery {
  /** An ISO date or date-time (default: 7 days ago). */
  since?: string;
  /** 1 to 1000 (default 100). */
  limit?: number;
}

export interface AdminAlert {
  id: string;
  subject: string;
  tier: string;
  window: 'day' | 'month';
  /** The UTC day (YYYY-MM-DD) or month (YYYY-MM). */
  period: string;
  threshold_percent: number;
  limit_usd: string;
  spent_usd: string;
  raised_at: string;
  delivered_at: string | null;
  attempts: number;
  last_error: string | null;
  delivery: 'delivered' | 'retrying' | 'pending';
}

export interface AdminOverview {
  refusals_last_hour: {
    since: string;
    /** Counted by the instance that answered. */
    scope: string;
    by_dimension: Record<string, number>;
    total: number;
  };
  modes: {
    store: string;
    decisions: string;
    database: string;
    redis_failure_mode: string;
    expired_reservation_policy: string;
    default_tier: string;
  };
}

export interface TopSubjectsQuery {
  /** Rank by this UTC day's or this UTC month's spend (default month). */
  period?: 'day' | 'month';
  /** 1 to 100 (default 10). */
  limit?: number;
}

export interface TopSubject {
  subject: string;
  tier: string;
  cost_usd: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Its own live limits, as /v1/check shows them; null while its tier row cannot be read. */
  limits: Record<string, unknown> | null;
  in_flight: InFlightSummary | null;
}

/** The reservations a subject holds now (checked, not yet settled), summed. */
export interface InFlightSummary {
  reservations: number;
  /** Their estimated cost, reserved. */
  cost_usd: string;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface TopSubjects {
  period: 'day' | 'month';
  from: string;
  to: string;
  subjects: TopSubject[];
}
