import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { createTier, micros } from '../support/fixtures.js';
import { type Reply, type Requester, httpClient } from '../support/http.client.js';
import { concurrently } from '../support/refusals.js';
import { RedisClusterFixture } from '../support/redis-cluster.fixture.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';

/**
 * SPEC §3 scopes, "no overspend at any level": a team of 20 users with a team daily limit,
 * 1,000 concurrent checks from 4 service processes spread over the users. Neither the team nor
 * any user ever holds more than its limit, on one Redis and on a throwaway 3-node Redis Cluster.
 */

const USERS = 20;
const CHECKS = 1_000;
// gpt-4o-mini, 1000 + 1000 tokens: 150 + 600 = 750 µ$ a check.
const CHECK_MICROS = 750;
const TEAM_LIMIT = 30_000; // 40 checks
const USER_LIMIT = 3_000; // 4 checks: 80 over all users, so the team refuses too

let t: TestApp;
let key: string;

beforeAll(async () => {
  t = await startTestApp();
  ({ key } = await insertApiClient(t.sql, 'scope-overspend'));
});

afterAll(async () => {
  await t?.close();
});

/** Four service processes on `redisUrl`, run `body`, stop them whatever happens. */
async function withServices(
  redisUrl: string,
  body: (clients: Requester[]) => Promise<void>,
): Promise<void> {
  const { databaseUrl, keyPrefix } = testEnv();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    // Every decision on the shared store, or none: a script slowed past its deadline by this
    // shared machine would otherwise send an instance to the local fallback, whose decisions
    // see only that instance (and whose ledger reads then time out too, 503 ledger_unavailable).
    REDIS_FAILURE_MODE: 'closed',
    REDIS_COMMAND_TIMEOUT_MS: '3000',
  };
  const services: ServiceProcess[] = [];
  try {
    // One after another: four at once on a busy machine may miss the 30 s start deadline.
    for (let i = 0; i < 4; i++) {
      services.push(await startServiceProcess(env));
    }
    await body(services.map((service) => httpClient(service.url, key)));
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
}

async function scenario(clients: Requester[]): Promise<void> {
  const teamTier = await createTier(t.sql, 'team', {
    dailyCostLimitUsd: (TEAM_LIMIT / 1e6).toFixed(6),
  });
  const userTier = await createTier(t.sql, 'member', {
    dailyCostLimitUsd: (USER_LIMIT / 1e6).toFixed(6),
  });
  const team = unique('team');
  const users = Array.from({ length: USERS }, () => unique('member'));
  await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [team, teamTier]);
  for (const user of users) {
    await t.sql('INSERT INTO subjects (id, tier, parent) VALUES ($1, $2, $3)', [
      user,
      userTier,
      team,
    ]);
  }
  for (const request of clients) {
    await eventually(async () => {
      const reply = await request('GET', `/v1/subjects/${users[USERS - 1]}/usage`);
      return reply.body.tier === userTier;
    });
  }

  // Each level's day counter seeded from Postgres first (a check released at once): the burst
  // then measures the levels' judgement, not 21 cold ledger reads racing on a busy machine.
  for (const user of users) {
    const warm = await clients[0]!('POST', '/v1/check', {
      subject: user,
      model: 'gpt-4o-mini',
      prompt_tokens: 1,
      max_tokens: 1,
    });
    expect(warm.status, JSON.stringify(warm.body)).toBe(200);
    const released = await clients[0]!('POST', '/v1/refund', {
      reservation_id: warm.body.reservation_id,
    });
    expect(released.status).toBe(200);
  }

  const { replies } = await concurrently(CHECKS, (i) =>
    clients[i % clients.length]!('POST', '/v1/check', {
      subject: users[i % USERS],
      model: 'gpt-4o-mini',
      prompt_tokens: 1000,
      max_tokens: 1000,
    }),
  );

  const allowed = replies.filter((r) => r.status === 200);
  for (const reply of replies.filter((r) => r.status !== 200)) {
    expect(reply.status, JSON.stringify(reply.body)).toBe(429);
    expect(reply.body).toMatchObject({ error: 'daily_budget_exceeded', dimension: 'daily_cost' });
    expect([team, ...users]).toContain(reply.body.scope_subject);
  }
  const cost = (r: Reply) => micros((r.body.estimate as Record<string, unknown>).cost_usd);
  const held = allowed.reduce((sum, r) => sum + cost(r), 0);
  expect(held).toBeLessThanOrEqual(TEAM_LIMIT);
  for (const user of users) {
    const own = allowed.filter((r) => r.body.subject === user);
    expect(
      own.reduce((sum, r) => sum + cost(r), 0),
      user,
    ).toBeLessThanOrEqual(USER_LIMIT);
  }
  // Cancelled levels are released: the team ends holding exactly what was admitted.
  expect(allowed.length).toBeGreaterThanOrEqual(30);
  const teamUsage = await clients[0]!('GET', `/v1/subjects/${team}/usage`);
  const teamMoney = (teamUsage.body.limits as Record<string, Record<string, string>>).daily_cost!;
  expect(micros(teamMoney.remaining_usd)).toBe(TEAM_LIMIT - allowed.length * CHECK_MICROS);

  // Committed at less than reserved, on any process: the team's ledger row is the members' sum.
  await Promise.all(
    allowed.map((reply, i) =>
      clients[i % clients.length]!('POST', '/v1/commit', {
        reservation_id: reply.body.reservation_id,
        usage: { prompt_tokens: 1000, completion_tokens: 500 },
      }).then((done) => expect(done.status).toBe(200)),
    ),
  );
  const after = await clients[1]!('GET', `/v1/subjects/${team}/usage`);
  const today = after.body.today as Record<string, unknown>;
  expect(micros(today.cost_usd)).toBe(allowed.length * 450);
  expect(today.requests).toBe(allowed.length);
  const money = (after.body.limits as Record<string, Record<string, string>>).daily_cost!;
  expect(micros(money.remaining_usd)).toBe(TEAM_LIMIT - allowed.length * 450);
}

describe('a team of 20 users, 1,000 concurrent checks from 4 service processes', () => {
  it('on one Redis: neither the team nor any user goes over its limit', async () => {
    await withServices(testEnv().redisUrl, scenario);
  }, 120_000);

  it('on a 3-node Redis Cluster: the levels in different slots, the same guarantees', async () => {
    const cluster = new RedisClusterFixture();
    try {
      await cluster.start();
      await withServices(cluster.url, scenario);
    } finally {
      await cluster.stop();
    }
  }, 180_000);
});
