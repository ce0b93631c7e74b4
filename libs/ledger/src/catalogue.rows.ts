import { usdPerMtokToPicosPerToken, usdToMicros } from '#kernel';
import { isEncodingName } from '#tokenizer';
import type { ModelEntry, TierEntry } from './catalogue.types.js';

/**
 * The bounds the code holds exactly, mirrored by the CHECK constraints of migration
 * 1765000001300-CatalogueBounds: a row beyond them is skipped by the catalogue, never rounded.
 * Money limits up to 2^53 − 1 micro-dollars; prices up to $1,000,000 per million tokens, so a
 * cost (tokens × price) stays an exact integer; multipliers up to 1,000 in whole millionths.
 */
export const MAX_USD_AMOUNT = '9007199254.740991';
export const MAX_USD_PER_MTOK = 1_000_000;
export const MAX_TOKEN_MULTIPLIER = 1_000;

export interface TierRow {
  name: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  token_burst: number | null;
  max_concurrent: number | null;
  daily_cost_limit_usd: string | null;
  monthly_cost_limit_usd: string | null;
  alert_thresholds: number[] | null;
}

export interface ModelRow {
  name: string;
  encoding: string | null;
  input_usd_per_mtok: string;
  cached_input_usd_per_mtok: string | null;
  output_usd_per_mtok: string;
  default_max_tokens: number;
  token_multiplier: string;
}

/** A row the service cannot use; the message says why, for the operator's log. */
export class UnusableRowError extends Error {}

export function tierEntry(row: TierRow): TierEntry {
  return Object.freeze({
    name: row.name,
    requestsPerMinute: row.requests_per_minute,
    tokensPerMinute: row.tokens_per_minute,
    tokenBurst: row.token_burst,
    maxConcurrent: row.max_concurrent,
    dailyCostLimitMicros:
      row.daily_cost_limit_usd === null
        ? null
        : amount(row.daily_cost_limit_usd, 'daily_cost_limit_usd'),
    monthlyCostLimitMicros:
      row.monthly_cost_limit_usd === null
        ? null
        : amount(row.monthly_cost_limit_usd, 'monthly_cost_limit_usd'),
    alertThresholds:
      row.alert_thresholds === null ? null : Object.freeze(row.alert_thresholds.map(Number)),
  });
}

export function modelEntry(row: ModelRow): ModelEntry {
  const encoding = row.encoding?.trim().toLowerCase();
  if (encoding && !isEncodingName(encoding)) {
    throw new UnusableRowError(`encoding ${JSON.stringify(row.encoding)} is not supported`);
  }
  // A multiplier scales token counts that are rounded up anyway: a float is precise enough.
  const multiplier = Number(row.token_multiplier);
  if (!(multiplier > 0 && multiplier <= MAX_TOKEN_MULTIPLIER)) {
    throw new UnusableRowError(
      `token_multiplier ${row.token_multiplier} is not in (0, ${MAX_TOKEN_MULTIPLIER}]`,
    );
  }
  return Object.freeze({
    name: row.name,
    row: row.name,
    encoding: row.encoding,
    tokenMultiplier: multiplier,
    defaultMaxTokens: row.default_max_tokens,
    pricing: Object.freeze({
      inputPicosPerToken: price(row.input_usd_per_mtok, 'input_usd_per_mtok'),
      outputPicosPerToken: price(row.output_usd_per_mtok, 'output_usd_per_mtok'),
      // NULL: cached input is priced as any input (Pricing leaves it out).
      ...(row.cached_input_usd_per_mtok === null
        ? {}
        : {
            cachedInputPicosPerToken: price(
              row.cached_input_usd_per_mtok,
              'cached_input_usd_per_mtok',
            ),
          }),
    }),
  });
}

function amount(text: string, column: string): number {
  try {
    return usdToMicros(text);
  } catch (error) {
    throw new UnusableRowError(`${column} ${text}: ${(error as Error).message}`);
  }
}

function price(text: string, column: string): number {
  let picos: number;
  try {
    picos = usdPerMtokToPicosPerToken(text);
  } catch (error) {
    throw new UnusableRowError(`${column} ${text}: ${(error as Error).message}`);
  }
  if (picos > MAX_USD_PER_MTOK * 1_000_000) {
    throw new UnusableRowError(`${column} ${text} is above ${MAX_USD_PER_MTOK}`);
  }
  return picos;
}
