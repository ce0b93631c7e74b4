import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { startTestApp, type TestApp } from '../support/app.harness.js';
import { createTier, micros, subjectOnTier } from '../support/fixtures.js';
import { type Reply, type Requester, httpClient } from '../support/http.client.js';
import { concurrently, expectRefusal } from '../support/refusals.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §3 "No overspend, ever": N concurrent checks against one subject, from any number of
 * service instances, never reserve more than the limits allow — and never fewer than they allow.
 */

const RPM = 100;
const CHECKS = 1_000;

let t: TestApp;

const checkBody = (subject: string, extra: Record<string, unknown> = {}) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 10,
  max_tokens: 10,
  ...extra,
});

/** The most a requests bucket of `rpm` can admit over `elapsedMs`: full, plus what refilled. */
function mostAdmitted(rpm: number, elapsedMs: number): number {
  return rpm + Math.floor((rpm / 60) * (elapsedMs / 1000));
}

function allowedOf(replies: Reply[]): Reply[] {
  return replies.filter((reply) => reply.status === 200);
}

/** Every answer is an admission or the SPEC 429 for `dimension`; returns the admissions. */
function expectOnlyAdmittedOrRefused(replies: Reply[], dimension: string): Reply[] {
  const allowed = allowedOf(replies);
  for (const reply of allowed) {
    expect(reply.body.allowed).toBe(true);
  }
  for (const reply of replies.filter((r) => r.status !== 200)) {
    expectRefusal(reply, dimension);
  }
  return allowed;
}

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('one service instance', () => {
  it(`admits ${RPM} requests per minute out of ${CHECKS} concurrent checks, no more, no fewer`, async () => {
    // A large daily limit too: every first check must seed the day's cost from Postgres at once.
    const tier = await createTier(t.sql, 'rpm', {
      requestsPerMinute: RPM,
      tokensPerMinute: 10_000_000,
      dailyCostLimitUsd: '1000',
    });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);

    const { replies, elapsedMs } = await concurrently(CHECKS, () =>
      t.request('POST', '/v1/check', checkBody(subject)),
    );

    const allowed = expectOnlyAdmittedOrRefused(replies, 'requests');
    expect(allowed.length).toBeGreaterThanOrEqual(RPM);
    expect(allowed.length).toBeLessThanOrEqual(mostAdmitted(RPM, elapsedMs));
    expect(new Set(allowed.map((r) => r.body.reservation_id)).size).toBe(allowed.length);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toHaveLength(allowed.length);
  });

  it('never holds more than max_concurrent leases: 200 concurrent checks, exactly 5 admitted', async () => {
    const tier = await createTier(t.sql, 'conc', { maxConcurrent: 5 });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);

    const first = await concurrently(200, () => t.request('POST', '/v1/check', checkBody(subject)));
    const allowed = expectOnlyAdmittedOrRefused(first.replies, 'concurrent');
    expect(allowed).toHaveLength(5);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toHaveLength(5);
    expect(usage.body.limits).toMatchObject({ concurrent: { limit: 5, remaining: 0 } });

    // Settling frees exactly those leases: the next burst again gets exactly five.
    for (const reply of allowed) {
      const commit = await t.request('POST', '/v1/commit', {
        reservation_id: reply.body.reservation_id,
        usage: { prompt_tokens: 10, completion_tokens: 5 },
      });
      expect(commit.status).toBe(200);
    }
    const second = await concurrently(200, () =>
      t.request('POST', '/v1/check', checkBody(subject)),
    );
    expect(expectOnlyAdmittedOrRefused(second.replies, 'concurrent')).toHaveLength(5);
  });

  it('never reserves past the daily cost limit, counting what was committed today', async () => {
    const tier = await createTier(t.sql, 'daily', { dailyCostLimitUsd: '0.010000' });
    const subject = await subjectOnTier(t.sql, tier, [t.request]);
    // gpt-4o-mini: $0.15 and $0.60 per million tokens.
    const first = await t.request('POST', '/v1/check', checkBody(subject));
    const committed = await t.request('POST', '/v1/commit', {
      reservation_id: first.body.reservation_id,
      usage: { prompt_tokens: 2000, completion_tokens: 1000 }, // $0.000900
    });
    expect(committed.body.cost_usd).toBe('0.000900');

    // Each check reserves 1000 × 0.15 + 1000 × 0.60 = 750 µ$; 9,100 µ$ are left: 12 fit.
    const { replies } = await concurrently(200, () =>
      t.request('POST', '/v1/check', checkBody(subject, { prompt_tokens: 1000, max_tokens: 1000 })),
    );
    const allowed = expectOnlyAdmittedOrRefused(replies, 'daily_cost');
    const reserved = allowed.reduce(
      (sum, r) => sum + micros((r.body.estimate as Record<string, unknown>).cost_usd),
      0,
    );
    expect(900 + reserved).toBeLessThanOrEqual(10_000);
    expect(allowed).toHaveLength(12);
    const refused = replies.find((r) => r.status === 429)!;
    expect(refused.body).toMatchObject({ limit: '0.010000', remaining: '0.000100' });
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.limits).toMatchObject({ daily_cost: { remaining_usd: '0.000100' } });
  });
});

describe('four service processes sharing one Redis and one database', () => {
  const services: ServiceProcess[] = [];
  const clients: Requester[] = [];

  beforeAll(async () => {
    const { key } = await insertApiClient(t.sql, 'multi-process');
    const { databaseUrl, redisUrl, keyPrefix } = testEnv();
    const env = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: keyPrefix };
    const started = await Promise.allSettled(
      Array.from({ length: 4 }, () => startServiceProcess(env)),
    );
    for (const result of started) {
      if (result.status === 'fulfilled') {
        services.push(result.value);
        clients.push(httpClient(result.value.url, key));
      }
    }
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      throw failed.reason;
    }
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop()));
  });

  it(`admits ${RPM} requests per minute out of ${CHECKS} checks spread over the processes`, async () => {
    const tier = await createTier(t.sql, 'rpm4', {
      requestsPerMinute: RPM,
      dailyCostLimitUsd: '1000',
    });
    const subject = await subjectOnTier(t.sql, tier, clients);

    const { replies, elapsedMs } = await concurrently(CHECKS, (i) =>
      clients[i % clients.length]!('POST', '/v1/check', checkBody(subject)),
    );

    const allowed = expectOnlyAdmittedOrRefused(replies, 'requests');
    expect(allowed.length).toBeGreaterThanOrEqual(RPM);
    expect(allowed.length).toBeLessThanOrEqual(mostAdmitted(RPM, elapsedMs));
  });

  it('holds at most max_concurrent leases across the processes', async () => {
    const tier = await createTier(t.sql, 'conc4', { maxConcurrent: 5 });
    const subject = await subjectOnTier(t.sql, tier, clients);
    const { replies } = await concurrently(200, (i) =>
      clients[i % clients.length]!('POST', '/v1/check', checkBody(subject)),
    );
    expect(expectOnlyAdmittedOrRefused(replies, 'concurrent')).toHaveLength(5);
  });
});
