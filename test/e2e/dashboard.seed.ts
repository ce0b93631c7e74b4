/**
 * Spend for the dashboard test, made the way gateways make it: checks and commits through the
 * HTTP API with a caller key, on tiers and subjects set up through the admin API. What it expects
 * the dashboard to show is summed here from the service's own answers, in integer micro-dollars.
 */
import { expect } from 'vitest';
import { eventually } from '../support/polling.js';
import { micros } from '../support/fixtures.js';
import { httpClient, type Requester } from '../support/http.client.js';

type Sql = (text: string, params?: unknown[]) => Promise<unknown>;

export interface SeededSpend {
  callerKey: string;
  /** Micro-dollars committed today, in total and by tier, model and subject. */
  total: number;
  byTier: Map<string, number>;
  byModel: Map<string, number>;
  bySubject: Map<string, number>;
  /** carol's reservations still held, and their estimated cost. */
  held: { reservations: number; micros: number };
  /** Refused checks by dimension. */
  refusals: Record<string, number>;
  /** Checks and commits one more spend (e.g. to watch the page refresh). */
  spend: (subject: string, model: string, prompt: number, completion: number) => Promise<number>;
}

const add = (map: Map<string, number>, key: string, value: number): void => {
  map.set(key, (map.get(key) ?? 0) + value);
};

export async function seedSpend(url: string, adminKey: string, sql: Sql): Promise<SeededSpend> {
  const admin = httpClient(url, adminKey);
  const put = async (path: string, body: unknown): Promise<void> => {
    const reply = await admin('PUT', path, body);
    expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(300);
  };
  await put('/v1/admin/tiers/team', {
    requests_per_minute: 600,
    max_concurrent: 5,
    daily_cost_limit_usd: '5',
    monthly_cost_limit_usd: '60',
  });
  // Alert thresholds are an SQL-only column of tiers (SPEC §5).
  await sql(`UPDATE tiers SET alert_thresholds = '{50,80}' WHERE name = 'team'`);
  await put('/v1/admin/subjects/alice', { tier: 'team' });
  await put('/v1/admin/subjects/bob', { tier: 'team' });
  await put('/v1/admin/subjects/dave', { tier: 'standard' });
  const created = await admin('POST', '/v1/admin/keys', { name: 'chat-gateway', role: 'caller' });
  expect(created.status).toBe(201);
  const callerKey = String(created.body.key);
  const caller: Requester = httpClient(url, callerKey);
  // New keys and tier rows reach the service within 2 s (LISTEN/NOTIFY).
  await eventually(async () => {
    for (const [subject, tier] of [
      ['alice', 'team'],
      ['dave', 'standard'],
    ]) {
      const reply = await caller('GET', `/v1/subjects/${subject}/usage`);
      expect(reply.body.tier).toBe(tier);
    }
  }, 10_000);

  const byTier = new Map<string, number>();
  const byModel = new Map<string, number>();
  const bySubject = new Map<string, number>();
  let total = 0;

  const check = async (subject: string, model: string, prompt: number, maxTokens: number) =>
    caller('POST', '/v1/check', {
      subject,
      model,
      prompt_tokens: prompt,
      max_tokens: maxTokens,
    });

  const spend = async (
    subject: string,
    model: string,
    prompt: number,
    completion: number,
  ): Promise<number> => {
    const checked = await check(subject, model, prompt, completion);
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    const committed = await caller('POST', '/v1/commit', {
      reservation_id: checked.body.reservation_id,
      usage: { prompt_tokens: prompt, completion_tokens: completion },
    });
    expect(committed.status, JSON.stringify(committed.body)).toBe(200);
    const cost = micros(committed.body.cost_usd);
    total += cost;
    add(byTier, String(checked.body.tier), cost);
    add(byModel, String(checked.body.model), cost);
    add(bySubject, subject, cost);
    return cost;
  };

  // alice crosses 50% of her $5 day: one budget alert.
  await spend('alice', 'gpt-4o', 400_000, 50_000);
  await spend('alice', 'gpt-4o', 400_000, 50_000);
  await spend('alice', 'claude-sonnet-4', 100_000, 10_000);
  for (let i = 0; i < 3; i++) {
    await spend('bob', 'gpt-4o-mini', 200_000, 20_000);
  }
  await spend('bob', 'o3-mini', 100_000, 30_000);
  // dave has the standard tier: 100,000 tokens a minute.
  await spend('dave', 'gpt-4.1', 60_000, 8_000);
  // carol has the default tier (free: 2 at once): two reservations held, a third refused.
  await spend('carol', 'gpt-4o-mini', 2_000, 400);
  let heldMicros = 0;
  for (let i = 0; i < 2; i++) {
    const held = await check('carol', 'gpt-4o-mini', 1_000, 500);
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    heldMicros += micros((held.body.estimate as { cost_usd: string }).cost_usd);
  }
  const refusals: Record<string, number> = {};
  for (const [subject, model, prompt, maxTokens] of [
    ['carol', 'gpt-4o-mini', 1_000, 500],
    // alice: $3.45 committed + $1.60 estimated > $5 a day.
    ['alice', 'gpt-4o', 600_000, 10_000],
  ] as const) {
    const refused = await check(subject, model, prompt, maxTokens);
    expect(refused.status, JSON.stringify(refused.body)).toBe(429);
    const dimension = String(refused.body.dimension);
    refusals[dimension] = (refusals[dimension] ?? 0) + 1;
  }
  expect(refusals).toEqual({ concurrent: 1, daily_cost: 1 });

  return {
    callerKey,
    get total() {
      return total;
    },
    byTier,
    byModel,
    bySubject,
    held: { reservations: 2, micros: heldMicros },
    refusals,
    spend,
  };
}

/** Micro-dollars as the dashboard writes them: "$1,234.567890". */
export function usd(microDollars: number): string {
  const whole = Math.floor(microDollars / 1_000_000).toLocaleString('en-US');
  return `$${whole}.${String(microDollars % 1_000_000).padStart(6, '0')}`;
}
