/**
 * SPEC §8 "typed … admin calls": every admin call of #client against the compiled service (its
 * own process, on this run's Postgres and Redis), answers typed as the service sends them, a
 * caller key's 403 as a ForbiddenError, missing rows as NotFoundError, and spend as JSON and CSV.
 * Precondition: dist/ exists (`npm test` builds first).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  TierInUseError,
  TokenBudget,
  UnauthorizedError,
} from '#client';
import { insertApiClient } from '../support/api-clients.js';
import { eventually, unique } from '../support/polling.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';

let sql: pg.Pool;
let service: ServiceProcess;
let admin: TokenBudget;

const client = (apiKey: string) =>
  new TokenBudget({ baseUrl: service.url, apiKey, maxAttempts: 2, deadlineMs: 10_000 });

beforeAll(async () => {
  const env = testEnv();
  sql = new pg.Pool({ connectionString: env.databaseUrl, max: 2 });
  const { key } = await insertApiClient(
    (text, params) => sql.query(text, params),
    'sdk_admin',
    'admin',
  );
  service = await startServiceProcess({
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_KEY_PREFIX: env.keyPrefix,
  });
  admin = client(key);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await sql?.end();
});

describe('#client admin calls against the running service', () => {
  it('puts, reads, lists and deletes models, tiers, per-model limits and subjects', async () => {
    const model = unique('sdk-model');
    const putModel = await admin.admin.putModel(model, {
      input_usd_per_mtok: '1.5',
      output_usd_per_mtok: 6,
      default_max_tokens: 512,
    });
    expect(putModel).toEqual({
      name: model,
      encoding: null,
      input_usd_per_mtok: '1.5',
      cached_input_usd_per_mtok: null,
      output_usd_per_mtok: '6',
      default_max_tokens: 512,
      token_multiplier: '1',
    });
    expect(await admin.admin.getModel(model)).toEqual(putModel);
    expect((await admin.admin.listModels()).map((m) => m.name)).toContain(model);

    const tier = unique('sdk_tier');
    const putTier = await admin.admin.putTier(tier, { requests_per_minute: 100 });
    expect(putTier).toMatchObject({
      name: tier,
      requests_per_minute: 100,
      tokens_per_minute: null,
      daily_cost_limit_usd: null,
      subjects: 0,
      model_limits: [],
    });
    expect((await admin.admin.listTiers()).find((t) => t.name === tier)?.requests_per_minute).toBe(
      100,
    );
    const limit = await admin.admin.putTierModelLimit(tier, model, { tokens_per_minute: 5000 });
    expect(limit).toEqual({ tier, model, requests_per_minute: null, tokens_per_minute: 5000 });
    expect(await admin.admin.getTierModelLimit(tier, model)).toEqual(limit);
    expect((await admin.admin.getTier(tier)).model_limits).toEqual([limit]);
    await admin.admin.deleteTierModelLimit(tier, model);
    await expect(admin.admin.getTierModelLimit(tier, model)).rejects.toBeInstanceOf(NotFoundError);

    const [team, member, other] = [unique('sdk_team'), unique('sdk_member'), unique('sdk_other')];
    expect(await admin.admin.putSubject(team, { tier })).toMatchObject({ id: team, parent: null });
    await admin.admin.putSubject(member, { tier, parent: team });
    await admin.admin.putSubject(other, { tier, parent: team });
    expect(await admin.admin.getSubject(member)).toMatchObject({ tier, parent: team });
    const children = await admin.admin.listSubjects({ parent: team });
    expect(children.subjects.map((s) => s.id).sort()).toEqual([member, other].sort());
    expect(children.next_cursor).toBeNull();
    const first = await admin.admin.listSubjects({ tier, limit: 2 });
    expect(first.subjects).toHaveLength(2);
    expect(first.next_cursor).toBe(first.subjects[1]!.id);
    const rest = await admin.admin.listSubjects({ tier, limit: 2, cursor: first.next_cursor! });
    expect([...first.subjects, ...rest.subjects].map((s) => s.id).sort()).toEqual(
      [team, member, other].sort(),
    );
    expect(rest.next_cursor).toBeNull();

    const cycle = admin.admin.putSubject(team, { tier, parent: member });
    await expect(cycle).rejects.toBeInstanceOf(InvalidRequestError);
    const inUse = await admin.admin.deleteTier(tier).catch((error: unknown) => error);
    expect(inUse).toBeInstanceOf(TierInUseError);
    expect(inUse).toMatchObject({ status: 409, code: 'tier_in_use' });

    for (const id of [member, other, team]) {
      await admin.admin.deleteSubject(id);
    }
    await expect(admin.admin.getSubject(team)).rejects.toBeInstanceOf(NotFoundError);
    await admin.admin.deleteTier(tier);
    await expect(admin.admin.getTier(tier)).rejects.toBeInstanceOf(NotFoundError);
    await admin.admin.deleteModel(model);
    await expect(admin.admin.getModel(model)).rejects.toMatchObject({
      code: 'not_found',
      status: 404,
    });
  }, 60_000);

  it('makes, rotates and revokes keys; a caller key is refused with a ForbiddenError', async () => {
    const name = unique('sdk_gw');
    const created = await admin.admin.createKey(name);
    expect(created).toMatchObject({ name, role: 'caller', revoked_at: null });
    expect(created.key).toMatch(/^tb_/);
    const listed = (await admin.admin.listKeys()).find((k) => k.name === name);
    expect(listed).toMatchObject({ role: 'caller', revoked_at: null });
    expect(listed).not.toHaveProperty('key');

    const refused = await client(created.key)
      .admin.listTiers()
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect(refused).toMatchObject({ status: 403, code: 'forbidden' });

    const rotated = await admin.admin.rotateKey(name, 60);
    expect(rotated.key).not.toBe(created.key);
    expect(Date.parse(rotated.previous_key_expires_at!)).toBeGreaterThan(Date.now() + 50_000);
    // In its grace period the old key still works.
    await expect(client(created.key).usage(unique('anyone'))).resolves.toHaveProperty('tier');
    await expect(client(rotated.key).usage(unique('anyone'))).resolves.toHaveProperty('tier');

    const revoked = await admin.admin.revokeKey(name);
    expect(revoked.name).toBe(name);
    expect(revoked.revoked_at).not.toBeNull();
    await eventually(
      () =>
        expect(client(rotated.key).usage(unique('anyone'))).rejects.toBeInstanceOf(
          UnauthorizedError,
        ),
      3_000,
      100,
    );
  }, 60_000);

  it('reports spend as JSON and CSV, alerts, top subjects and the overview', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const tier = unique('sdk_spend');
    await admin.admin.putTier(tier, { daily_cost_limit_usd: '0.003' });
    // Alert thresholds are edited with SQL (SPEC §5); PUT keeps them.
    await sql.query(`UPDATE tiers SET alert_thresholds = '{20}' WHERE name = $1`, [tier]);
    const [team, member] = [unique('sdk_team'), unique('sdk_member')];
    await admin.admin.putSubject(team, { tier });
    await admin.admin.putSubject(member, { tier, parent: team });
    const gateway = await admin.admin.createKey(unique('sdk_spender'));
    const caller = client(gateway.key);
    await eventually(async () => expect((await caller.usage(member)).tier).toBe(tier), 5_000, 100);

    // gpt-4o-mini: 1000 × $0.15/M + 1000 × $0.60/M = $0.00075, 25% of the day's $0.003.
    const check = await caller.check({
      subject: member,
      model: 'gpt-4o-mini',
      prompt_tokens: 1000,
      max_tokens: 1000,
    });
    expect(check.allowed).toBe(true);
    await caller.commit({
      reservation_id: check.allowed ? check.reservation_id : '',
      usage: { prompt_tokens: 1000, completion_tokens: 1000 },
    });

    const byCaller = await admin.admin.spend({ subject: team, group_by: 'caller' });
    expect(byCaller.group_by).toBe('caller');
    expect(byCaller.rows).toEqual([
      {
        key: gateway.name,
        cost_usd: '0.000750',
        requests: 1,
        prompt_tokens: 1000,
        completion_tokens: 1000,
        cached_tokens: 0,
      },
    ]);
    expect(byCaller.total.cost_usd).toBe('0.000750');
    expect(await admin.admin.spendCsv({ subject: team, group_by: 'subject' })).toBe(
      'key,cost_usd,requests,prompt_tokens,completion_tokens,cached_tokens\r\n' +
        `${member},0.000750,1,1000,1000,0\r\n`,
    );

    const alerts = await admin.admin.alerts({ since });
    expect(alerts.filter((a) => a.subject === member)).toEqual([
      expect.objectContaining({
        tier,
        window: 'day',
        period: new Date().toISOString().slice(0, 10),
        threshold_percent: 20,
        limit_usd: '0.003',
        spent_usd: '0.000750',
        delivered_at: null,
        delivery: 'pending',
      }),
    ]);
    // Other test files share this database and raise alerts of their own (some dated ahead):
    // only this test's subject is asked about.
    const later = await admin.admin.alerts({ since: new Date(Date.now() + 60_000).toISOString() });
    expect(later.filter((a) => a.subject === member)).toEqual([]);

    const top = await admin.admin.topSubjects({ period: 'day', limit: 100 });
    expect(top.period).toBe('day');
    expect(top.subjects.find((s) => s.subject === member)).toMatchObject({
      tier,
      cost_usd: '0.000750',
      requests: 1,
      in_flight: { reservations: 0 },
    });

    const overview = await admin.admin.overview();
    expect(overview.modes).toMatchObject({
      database: 'postgres',
      store: expect.any(String),
      alert_webhook: 'none',
    });
    expect(overview.refusals_last_hour.total).toBe(
      Object.values(overview.refusals_last_hour.by_dimension).reduce((a, b) => a + b, 0),
    );
  }, 60_000);
});
