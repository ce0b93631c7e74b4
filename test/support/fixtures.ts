import type pg from 'pg';
import { eventually, unique } from './polling.js';
import type { Requester } from './http.client.js';

export interface TierLimits {
  requestsPerMinute?: number | null;
  tokensPerMinute?: number | null;
  tokenBurst?: number | null;
  maxConcurrent?: number | null;
  /** A decimal string such as '0.010000'; NULL (unlimited) when absent. */
  dailyCostLimitUsd?: string | null;
}

type Sql = (text: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Inserts a tier under a unique name (absent limits are NULL: unlimited) and returns its name. */
export async function createTier(sql: Sql, prefix: string, limits: TierLimits): Promise<string> {
  const name = unique(prefix);
  await sql(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent,
                        daily_cost_limit_usd)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      name,
      limits.requestsPerMinute ?? null,
      limits.tokensPerMinute ?? null,
      limits.tokenBurst ?? null,
      limits.maxConcurrent ?? null,
      limits.dailyCostLimitUsd ?? null,
    ],
  );
  return name;
}

/**
 * Puts a new subject on `tier` and waits until every given service reports that tier
 * (LISTEN/NOTIFY takes up to 2 s).
 */
export async function subjectOnTier(
  sql: Sql,
  tier: string,
  services: Requester[],
  prefix = 'subj',
): Promise<string> {
  const subject = unique(prefix);
  await sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tier]);
  for (const request of services) {
    await eventually(async () => {
      const reply = await request('GET', `/v1/subjects/${encodeURIComponent(subject)}/usage`);
      return reply.body.tier === tier;
    });
  }
  return subject;
}

/** Money strings of the API ("0.012345") as integer micro-dollars, exactly. */
export function micros(usd: unknown): number {
  const match = /^(\d+)\.(\d{6})$/.exec(String(usd));
  if (!match) {
    throw new Error(`not a money string: ${String(usd)}`);
  }
  return Number(match[1]) * 1_000_000 + Number(match[2]);
}
