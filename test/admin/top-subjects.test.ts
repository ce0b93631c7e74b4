/**
 * GET /v1/admin/top-subjects: the subjects that spent most, each with its tier, its live limits
 * and what it holds in flight — what the dashboard's "Top subjects" table shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopSubject } from '../../apps/api/src/admin/top-subjects.service.js';
import { startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, micros, subjectOnTier } from '../support/fixtures.js';
import { type AdminKey, adminKey } from './admin.helpers.js';

let t: TestApp;
let admin: AdminKey;
let tier: string;
let big: string;
let small: string;
let bigMicros = 0;
let smallMicros = 0;
let heldMicros = 0;

beforeAll(async () => {
  t = await startTestApp();
  admin = await adminKey(t);
  tier = await createTier(t.sql, 'top', { maxConcurrent: 3, dailyCostLimitUsd: '900' });
  big = await subjectOnTier(t.sql, tier, [t.request], 'top_big');
  small = await subjectOnTier(t.sql, tier, [t.request], 'top_small');
  // Large enough to rank among every other test file's subjects of today.
  const spend = async (subject: string, prompt: number): Promise<number> => {
    const checked = await t.request('POST', '/v1/check', {
      subject,
      model: 'gpt-4o',
      prompt_tokens: prompt,
      max_tokens: 1_000,
    });
    expect(checked.status, JSON.stringify(checked.body)).toBe(200);
    const committed = await t.request('POST', '/v1/commit', {
      reservation_id: checked.body.reservation_id,
      usage: { prompt_tokens: prompt, completion_tokens: 1_000 },
    });
    expect(committed.status).toBe(200);
    return micros(committed.body.cost_usd);
  };
  bigMicros += await spend(big, 8_000_000);
  bigMicros += await spend(big, 4_000_000);
  smallMicros += await spend(small, 6_000_000);
  const held = await t.request('POST', '/v1/check', {
    subject: small,
    model: 'gpt-4o',
    prompt_tokens: 1_000,
    max_tokens: 500,
  });
  expect(held.status).toBe(200);
  heldMicros = micros((held.body.estimate as { cost_usd: string }).cost_usd);
});

afterAll(async () => {
  await t?.close();
});

async function top(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return admin.request('GET', `/v1/admin/top-subjects${query}`);
}

describe('GET /v1/admin/top-subjects', () => {
  it("ranks today's spenders, with their tier, live limits and reservations in flight", async () => {
    const reply = await top('?period=day&limit=100');
    expect(reply.status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    expect(reply.body).toMatchObject({ period: 'day', from: today, to: today });
    const subjects = reply.body.subjects as TopSubject[];
    const costs = subjects.map((s) => micros(s.cost_usd));
    expect(costs.every((cost, i) => i === 0 || cost <= costs[i - 1]!)).toBe(true);
    const ours = subjects.filter((s) => s.subject === big || s.subject === small);
    expect(ours.map((s) => s.subject)).toEqual([big, small]);

    const [first, second] = ours as [TopSubject, TopSubject];
    expect(first).toMatchObject({
      tier,
      requests: 2,
      prompt_tokens: 12_000_000,
      completion_tokens: 2_000,
      in_flight: { reservations: 0, cost_usd: '0.000000' },
    });
    expect(micros(first.cost_usd)).toBe(bigMicros);
    expect(first.limits!.concurrent).toEqual({ limit: 3, remaining: 3 });
    expect(micros(first.limits!.daily_cost!.limit_usd)).toBe(900_000_000);
    expect(micros(first.limits!.daily_cost!.remaining_usd)).toBe(900_000_000 - bigMicros);

    expect(micros(second.cost_usd)).toBe(smallMicros);
    expect(second.in_flight!.reservations).toBe(1);
    expect(micros(second.in_flight!.cost_usd)).toBe(heldMicros);
    expect(second.limits!.concurrent).toEqual({ limit: 3, remaining: 2 });
    // What is reserved counts against the day, as a check judges it.
    expect(micros(second.limits!.daily_cost!.remaining_usd)).toBe(
      900_000_000 - smallMicros - heldMicros,
    );
  });

  it('ranks the month by default, and limits the rows', async () => {
    const reply = await top('?limit=1');
    expect(reply.status).toBe(200);
    expect(reply.body.period).toBe('month');
    expect(String(reply.body.from)).toMatch(/^\d{4}-\d{2}-01$/);
    expect((reply.body.subjects as unknown[]).length).toBe(1);
  });

  it('answers 400 to a bad period or limit, 401 without a key and 403 to a caller key', async () => {
    for (const query of ['?period=week', '?limit=0', '?limit=101', '?limit=x', '?other=1']) {
      const reply = await top(query);
      expect(reply.status, query).toBe(400);
      expect(reply.body.error, query).toBe('invalid_request');
    }
    const anonymous = await t.request('GET', '/v1/admin/top-subjects', undefined, {
      authorization: '',
    });
    expect(anonymous.status).toBe(401);
    const caller = await t.request('GET', '/v1/admin/top-subjects');
    expect(caller.status).toBe(403);
    expect(caller.body.error).toBe('forbidden');
  });

  it('is in the OpenAPI document, with its response schema', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const operation = doc.paths['/v1/admin/top-subjects']!.get!;
    expect(Object.keys(operation.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403']),
    );
    expect(doc.components.schemas.AdminTopSubjects).toBeDefined();
    expect(doc.components.schemas.AdminTopSubject).toBeDefined();
  });
});
