import { describe, expect, it } from 'vitest';
import { eventually, startTestApp, unique } from '../support/app.harness.js';
import { httpClient } from '../support/http.client.js';
import { auditRows, useAdminApp } from './admin.helpers.js';

const ctx = useAdminApp();

interface RowNames {
  tier: string;
  /** The tier whose per-model limit of gpt-4o the routes edit. */
  limitTier: string;
  subject: string;
  model: string;
  key: string;
}

/** Every admin route with a body that would be valid, on rows of these names. */
const routesOn = (names: RowNames): [string, string, unknown?][] => [
  ['GET', '/v1/admin/tiers'],
  ['GET', '/v1/admin/tiers/free'],
  ['PUT', `/v1/admin/tiers/${names.tier}`, { requests_per_minute: 1 }],
  ['DELETE', `/v1/admin/tiers/${names.tier}`],
  ['GET', `/v1/admin/tiers/${names.limitTier}/models/gpt-4o`],
  ['PUT', `/v1/admin/tiers/${names.limitTier}/models/gpt-4o`, { requests_per_minute: 1 }],
  ['DELETE', `/v1/admin/tiers/${names.limitTier}/models/gpt-4o`],
  ['GET', '/v1/admin/subjects'],
  ['GET', `/v1/admin/subjects/${names.subject}`],
  ['PUT', `/v1/admin/subjects/${names.subject}`, { tier: 'free' }],
  ['DELETE', `/v1/admin/subjects/${names.subject}`],
  ['GET', '/v1/admin/models'],
  ['GET', '/v1/admin/models/gpt-4o'],
  [
    'PUT',
    `/v1/admin/models/${names.model}`,
    { input_usd_per_mtok: '1', output_usd_per_mtok: '2', default_max_tokens: 10 },
  ],
  ['DELETE', `/v1/admin/models/${names.model}`],
  ['POST', '/v1/admin/keys', { name: names.key }],
  ['GET', '/v1/admin/keys'],
  ['POST', `/v1/admin/keys/${names.key}/rotate`, {}],
  ['DELETE', `/v1/admin/keys/${names.key}`],
  ['GET', '/v1/admin/spend'],
  ['GET', '/v1/admin/overview'],
  ['GET', '/v1/admin/alerts'],
];

/** A caller key must get 403 on each. */
const ROUTES = routesOn({ tier: 'x', limitTier: 'free', subject: 's', model: 'm', key: 'k' });

/** The OpenAPI path of a concrete admin path. */
const templated = (path: string): string =>
  path
    .replace(/\/tiers\/[^/]+/, '/tiers/{name}')
    .replace(/\/models\/[^/]+$/, (m) => (path.includes('/tiers/') ? '/models/{model}' : m))
    .replace(/^\/v1\/admin\/models\/[^/]+$/, '/v1/admin/models/{name}')
    .replace(/\/subjects\/[^/]+/, '/subjects/{id}')
    .replace(/\/keys\/[^/]+/, '/keys/{name}');

type OpenApiPaths = Record<string, Record<string, { responses: Record<string, unknown> }>>;

describe('admin API: who may call it', () => {
  it('answers 401 without a key and 403 forbidden to a caller key, on every route', async () => {
    for (const [method, path, body] of ROUTES) {
      const anonymous = await ctx.t.request(method, path, body, { authorization: '' });
      expect(anonymous.status, `${method} ${path}`).toBe(401);
      expect(anonymous.body.error).toBe('unauthorized');
      const caller = await ctx.t.request(method, path, body);
      expect(caller.status, `${method} ${path}`).toBe(403);
      expect(caller.body).toEqual({ error: 'forbidden', message: expect.any(String) });
    }
  });

  it('lets an admin key call the caller routes too', async () => {
    const reply = await ctx.admin.request('POST', '/v1/estimate', {
      subject: unique('s'),
      model: 'gpt-4o-mini',
      prompt_tokens: 10,
      max_tokens: 10,
    });
    expect(reply.status).toBe(200);
  });

  it('documents every admin route in the OpenAPI document', async () => {
    const doc = (await ctx.t.request('GET', '/openapi.json')).body as { paths: OpenApiPaths };
    for (const [method, path] of ROUTES) {
      const operation = doc.paths[templated(path)]?.[method.toLowerCase()];
      expect(operation, `${method} ${templated(path)}`).toBeDefined();
    }
  });

  it('documents the status each admin route answers, 201 (created) and 200 (replaced) of a PUT', async () => {
    const doc = (await ctx.t.request('GET', '/openapi.json')).body as { paths: OpenApiPaths };
    const limitTier = unique('limits');
    expect((await ctx.admin.request('PUT', `/v1/admin/tiers/${limitTier}`, {})).status).toBe(201);
    const names = { tier: unique('t'), limitTier, subject: unique('s'), model: unique('m') };
    const answered: string[] = [];
    for (const [method, path, body] of routesOn({ ...names, key: unique('k') })) {
      const documented = Object.keys(doc.paths[templated(path)]![method.toLowerCase()]!.responses);
      for (let call = 0; call < (method === 'PUT' ? 2 : 1); call += 1) {
        const { status } = await ctx.admin.request(method, path, body);
        answered.push(`${method} ${path} ${status}`);
        expect(documented, `${method} ${path} answered ${status}`).toContain(String(status));
      }
    }
    expect(answered.filter((line) => line.startsWith('PUT')).map((line) => line.slice(-3))).toEqual(
      ['201', '200', '201', '200', '201', '200', '201', '200'],
    );
  });
});

describe('admin API: tiers', () => {
  it('creates, reads, replaces and deletes a tier, auditing each change', async () => {
    const name = unique('tier');
    const created = await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, {
      requests_per_minute: 5,
      daily_cost_limit_usd: '2.5',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name,
      requests_per_minute: 5,
      tokens_per_minute: null,
      daily_cost_limit_usd: '2.5',
      subjects: 0,
    });
    const replaced = await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, {
      tokens_per_minute: 1000,
      daily_cost_limit_usd: 3,
      monthly_cost_limit_usd: '40.000001',
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({
      requests_per_minute: null,
      tokens_per_minute: 1000,
      daily_cost_limit_usd: '3',
      monthly_cost_limit_usd: '40.000001',
    });
    const list = await ctx.admin.request('GET', '/v1/admin/tiers');
    expect((list.body.tiers as { name: string }[]).map((tier) => tier.name)).toContain(name);

    expect((await ctx.admin.request('DELETE', `/v1/admin/tiers/${name}`)).status).toBe(204);
    expect((await ctx.admin.request('GET', `/v1/admin/tiers/${name}`)).status).toBe(404);
    expect((await ctx.admin.request('DELETE', `/v1/admin/tiers/${name}`)).body.error).toBe(
      'not_found',
    );

    const audit = await auditRows(ctx.t, name);
    expect(audit.map((row) => row.action)).toEqual(['tier.put', 'tier.put', 'tier.delete']);
    expect(audit.every((row) => row.actor === ctx.admin.name)).toBe(true);
    expect(audit[0]).toMatchObject({ before: null, after: { requests_per_minute: 5 } });
    expect(audit[1]).toMatchObject({
      before: { requests_per_minute: 5 },
      after: { tokens_per_minute: 1000, requests_per_minute: null },
    });
    expect(audit[2]).toMatchObject({ before: { tokens_per_minute: 1000 }, after: null });
  });

  it('refuses to delete a tier that a subject still uses (409) and audits nothing', async () => {
    const name = unique('used');
    await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, { requests_per_minute: 5 });
    await ctx.admin.request('PUT', `/v1/admin/subjects/${unique('member')}`, { tier: name });
    const reply = await ctx.admin.request('DELETE', `/v1/admin/tiers/${name}`);
    expect(reply.status).toBe(409);
    expect(reply.body).toMatchObject({ error: 'tier_in_use', subjects: 1 });
    expect((await auditRows(ctx.t, name)).map((row) => row.action)).toEqual(['tier.put']);
  });

  it('answers 400 invalid_request for bad limits, unknown fields and bad money, changing nothing', async () => {
    const name = unique('bad');
    for (const body of [
      { requests_per_minute: 0 },
      { requests_per_minute: -5 },
      { requests_per_minute: 1.5 },
      { tokens_per_minute: 'many' },
      { requests_per_minute: 3_000_000_000 },
      { daily_cost_limit_usd: '-1' },
      { daily_cost_limit_usd: '0.1234567' },
      { daily_cost_limit_usd: '1e3' },
      { surprise: 1 },
    ]) {
      const reply = await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
      expect(typeof reply.body.message).toBe('string');
    }
    expect((await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, 'not json')).status).toBe(
      400,
    );
    expect((await ctx.admin.request('GET', `/v1/admin/tiers/${name}`)).status).toBe(404);
    expect(await auditRows(ctx.t, name)).toEqual([]);
  });

  it('manages the per-model limits of a tier', async () => {
    const name = unique('tml');
    await ctx.admin.request('PUT', `/v1/admin/tiers/${name}`, {});
    const path = `/v1/admin/tiers/${name}/models/gpt-4o`;
    const put = await ctx.admin.request('PUT', path, { requests_per_minute: 3 });
    expect(put.status).toBe(201);
    expect(put.body).toEqual({
      tier: name,
      model: 'gpt-4o',
      requests_per_minute: 3,
      tokens_per_minute: null,
    });
    expect((await ctx.admin.request('GET', `/v1/admin/tiers/${name}`)).body.model_limits).toEqual([
      put.body,
    ]);
    expect((await ctx.admin.request('PUT', path, { tokens_per_minute: 0 })).status).toBe(400);
    expect(
      (await ctx.admin.request('PUT', `/v1/admin/tiers/${unique('none')}/models/gpt-4o`, {}))
        .status,
    ).toBe(404);
    expect((await ctx.admin.request('DELETE', path)).status).toBe(204);
    expect((await ctx.admin.request('GET', path)).status).toBe(404);
    expect((await auditRows(ctx.t, `${name}/gpt-4o`)).map((row) => row.action)).toEqual([
      'tier_model_limit.put',
      'tier_model_limit.delete',
    ]);
  });
});

describe('admin API: subjects', () => {
  it('puts, lists by tier with cursor pages, reads and deletes subjects', async () => {
    const tier = unique('page');
    await ctx.admin.request('PUT', `/v1/admin/tiers/${tier}`, {});
    const ids = Array.from({ length: 5 }, (_, i) => `${tier}-member-${i}`);
    for (const id of ids) {
      expect((await ctx.admin.request('PUT', `/v1/admin/subjects/${id}`, { tier })).status).toBe(
        201,
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?tier=${tier}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await ctx.admin.request('GET', `/v1/admin/subjects${query}`);
      expect(page.status).toBe(200);
      const subjects = page.body.subjects as { id: string; tier: string }[];
      expect(subjects.length).toBeLessThanOrEqual(2);
      seen.push(...subjects.map((s) => s.id));
      cursor = page.body.next_cursor as string | null;
    } while (cursor !== null);
    expect(seen).toEqual(ids);

    const odd = 'team/ä b%';
    const path = `/v1/admin/subjects/${encodeURIComponent(odd)}`;
    expect((await ctx.admin.request('PUT', path, { tier })).status).toBe(201);
    expect((await ctx.admin.request('PUT', path, { tier: 'free' })).status).toBe(200);
    expect((await ctx.admin.request('GET', path)).body).toMatchObject({ id: odd, tier: 'free' });
    expect((await ctx.admin.request('DELETE', path)).status).toBe(204);
    expect((await ctx.admin.request('GET', path)).status).toBe(404);
    expect((await auditRows(ctx.t, odd)).map((row) => row.action)).toEqual([
      'subject.put',
      'subject.put',
      'subject.delete',
    ]);
  });

  it('refuses an unknown tier, a missing tier and bad queries with 400', async () => {
    const id = unique('s');
    const unknown = await ctx.admin.request('PUT', `/v1/admin/subjects/${id}`, {
      tier: unique('no'),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_request');
    expect((await ctx.admin.request('PUT', `/v1/admin/subjects/${id}`, {})).status).toBe(400);
    expect((await ctx.admin.request('GET', '/v1/admin/subjects?limit=0')).status).toBe(400);
    expect((await ctx.admin.request('GET', '/v1/admin/subjects?color=red')).status).toBe(400);
    expect((await ctx.admin.request('GET', '/v1/admin/subjects/bell%07')).status).toBe(400);
    expect((await ctx.admin.request('GET', `/v1/admin/subjects/${'x'.repeat(257)}`)).status).toBe(
      400,
    );
  });
});

describe('admin API: models', () => {
  it('puts, reads, lists and deletes a model with exact prices', async () => {
    const name = unique('model');
    const body = {
      encoding: 'cl100k_base',
      input_usd_per_mtok: '0.123456',
      output_usd_per_mtok: 2,
      default_max_tokens: 512,
      token_multiplier: '1.25',
    };
    const put = await ctx.admin.request('PUT', `/v1/admin/models/${name}`, body);
    expect(put.status).toBe(201);
    expect(put.body).toEqual({
      name,
      encoding: 'cl100k_base',
      input_usd_per_mtok: '0.123456',
      cached_input_usd_per_mtok: null,
      output_usd_per_mtok: '2',
      default_max_tokens: 512,
      token_multiplier: '1.25',
    });
    const list = await ctx.admin.request('GET', '/v1/admin/models');
    expect((list.body.models as { name: string }[]).some((m) => m.name === 'gpt-4o')).toBe(true);
    for (const bad of [
      { ...body, encoding: 'klingon' },
      { ...body, input_usd_per_mtok: '-1' },
      { ...body, default_max_tokens: 0 },
      { ...body, token_multiplier: '0' },
      { encoding: 'cl100k_base' },
    ]) {
      expect((await ctx.admin.request('PUT', `/v1/admin/models/${name}`, bad)).status).toBe(400);
    }
    expect((await ctx.admin.request('DELETE', `/v1/admin/models/${name}`)).status).toBe(204);
    expect((await ctx.admin.request('GET', `/v1/admin/models/${name}`)).status).toBe(404);
    expect((await auditRows(ctx.t, name)).map((row) => row.action)).toEqual([
      'model.put',
      'model.delete',
    ]);
  });
});

describe('admin API: keys', () => {
  const works = async (key: string): Promise<boolean> =>
    (await httpClient(ctx.t.url, key)('GET', '/v1/subjects/someone/usage')).status === 200;

  it('creates a key shown once, lists keys without secrets, and revokes within 2 s', async () => {
    const name = unique('gw');
    const created = await ctx.admin.request('POST', '/v1/admin/keys', { name });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, role: 'caller', revoked_at: null });
    const key = String(created.body.key);
    expect(key).toMatch(/^tb_/);
    expect(await works(key)).toBe(true);
    expect((await httpClient(ctx.t.url, key)('GET', '/v1/admin/tiers')).status).toBe(403);

    const list = await ctx.admin.request('GET', '/v1/admin/keys');
    const listed = (list.body.keys as Record<string, unknown>[]).find((k) => k.name === name);
    expect(listed).toMatchObject({ name, role: 'caller', revoked_at: null });
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(Object.keys(listed!)).not.toContain('key_sha256');

    expect((await ctx.admin.request('POST', '/v1/admin/keys', { name })).status).toBe(409);
    expect((await ctx.admin.request('POST', '/v1/admin/keys', { name: 'bad name!' })).status).toBe(
      400,
    );
    expect(
      (await ctx.admin.request('POST', '/v1/admin/keys', { name: 'x', role: 'root' })).status,
    ).toBe(400);

    const revoked = await ctx.admin.request('DELETE', `/v1/admin/keys/${name}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revoked_at).toEqual(expect.any(String));
    await eventually(async () => !(await works(key)), 2500);
    expect((await ctx.admin.request('DELETE', `/v1/admin/keys/${unique('none')}`)).status).toBe(
      404,
    );
    const audit = await auditRows(ctx.t, name);
    expect(audit.map((row) => row.action)).toEqual(['key.create', 'key.revoke']);
    expect(JSON.stringify(audit)).not.toContain(key);
  });

  it('creates admin keys that can use the admin API', async () => {
    const created = await ctx.admin.request('POST', '/v1/admin/keys', {
      name: unique('ops'),
      role: 'admin',
    });
    const reply = await httpClient(ctx.t.url, String(created.body.key))('GET', '/v1/admin/tiers');
    expect(reply.status).toBe(200);
  });

  it('rotates: without grace the old key stops within 2 s; with grace both work until it ends', async () => {
    const name = unique('rot');
    const first = String((await ctx.admin.request('POST', '/v1/admin/keys', { name })).body.key);
    expect(await works(first)).toBe(true);

    const rotated = await ctx.admin.request('POST', `/v1/admin/keys/${name}/rotate`, {});
    expect(rotated.status).toBe(200);
    const second = String(rotated.body.key);
    expect(second).not.toBe(first);
    expect(await works(second)).toBe(true);
    await eventually(async () => !(await works(first)), 2500);

    const graced = await ctx.admin.request('POST', `/v1/admin/keys/${name}/rotate`, {
      grace_seconds: 3,
    });
    const third = String(graced.body.key);
    expect(graced.body.previous_key_expires_at).toEqual(expect.any(String));
    expect(await works(third)).toBe(true);
    expect(await works(second)).toBe(true); // still in its grace period
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past the guard's cache
    expect(await works(second)).toBe(true);
    await eventually(async () => !(await works(second)), 5000);
    expect(await works(third)).toBe(true);

    // Revoking the name ends a grace period at once too.
    const fourth = await ctx.admin.request('POST', `/v1/admin/keys/${name}/rotate`, {
      grace_seconds: 600,
    });
    await ctx.admin.request('DELETE', `/v1/admin/keys/${name}`);
    await eventually(
      async () => !(await works(third)) && !(await works(String(fourth.body.key))),
      2500,
    );
    expect(
      (await ctx.admin.request('POST', `/v1/admin/keys/${name}/rotate`, { grace_seconds: -1 }))
        .status,
    ).toBe(400);
    expect((await ctx.admin.request('POST', `/v1/admin/keys/${name}/rotate`, {})).status).toBe(404);
    expect((await auditRows(ctx.t, name)).map((row) => row.action)).toEqual([
      'key.create',
      'key.rotate',
      'key.rotate',
      'key.rotate',
      'key.revoke',
    ]);
  });
});

describe('admin API: alerts and overview', () => {
  it('lists the budget alerts raised since a time, with their delivery state', async () => {
    const subject = unique('alerted');
    await ctx.t.sql(
      `INSERT INTO budget_alerts (subject, tier, "window", period, threshold_percent, limit_usd,
                                  spent_usd, raised_at, delivered_at, attempts)
       VALUES ($1, 'free', 'day', '2026-01-02', 80, 1, 0.8, $2, NULL, 2),
              ($1, 'free', 'day', '2026-01-02', 50, 1, 0.5, $2::timestamptz - interval '1 hour', now(), 1),
              ($1, 'free', 'day', '2026-01-01', 50, 1, 0.5, $2::timestamptz - interval '30 days', now(), 1)`,
      // Raised "tomorrow", so the alerts other test files raise today stay below the page limit.
      [subject, new Date(Date.now() + 86_400_000).toISOString()],
    );
    const since = new Date(Date.now() + 86_400_000 - 2 * 3600_000).toISOString();
    const reply = await ctx.admin.request('GET', `/v1/admin/alerts?since=${since}`);
    expect(reply.status).toBe(200);
    const mine = (reply.body.alerts as Record<string, unknown>[]).filter(
      (alert) => alert.subject === subject,
    );
    expect(mine).toMatchObject([
      { threshold_percent: 80, spent_usd: '0.8', delivery: 'retrying', window: 'day' },
      { threshold_percent: 50, delivery: 'delivered' },
    ]);
    expect((await ctx.admin.request('GET', '/v1/admin/alerts?since=soon')).status).toBe(400);
  });

  it('shows refusals of the last hour by dimension and the modes', async () => {
    const subject = unique('refused');
    const tier = unique('one');
    await ctx.admin.request('PUT', `/v1/admin/tiers/${tier}`, { requests_per_minute: 1 });
    await ctx.admin.request('PUT', `/v1/admin/subjects/${subject}`, { tier });
    const before = await ctx.admin.request('GET', '/v1/admin/overview');
    const refusals = (body: Record<string, unknown>) =>
      (body.refusals_last_hour as { by_dimension: Record<string, number> }).by_dimension.requests!;
    const check = () =>
      ctx.t.request('POST', '/v1/check', {
        subject,
        model: 'gpt-4o-mini',
        prompt_tokens: 10,
        max_tokens: 10,
      });
    await eventually(async () => (await check()).status === 429, 3000);
    const after = await ctx.admin.request('GET', '/v1/admin/overview');
    expect(refusals(after.body)).toBeGreaterThan(refusals(before.body));
    expect(after.body.modes).toMatchObject({ store: 'redis', database: 'postgres' });
  });
});

describe('admin API: edits reach every instance', () => {
  it('a tier edit made on one instance governs checks on another within 2 s', async () => {
    const other = await startTestApp();
    try {
      const tier = unique('live');
      const subject = unique('live');
      await ctx.admin.request('PUT', `/v1/admin/tiers/${tier}`, { requests_per_minute: 100 });
      await ctx.admin.request('PUT', `/v1/admin/subjects/${subject}`, { tier });
      const check = () =>
        other.request('POST', '/v1/check', {
          subject,
          model: 'gpt-4o-mini',
          prompt_tokens: 10,
          max_tokens: 10,
        });
      await eventually(
        async () =>
          (await other.request('GET', `/v1/subjects/${subject}/usage`)).body.tier === tier,
        2000,
      );
      expect((await check()).status).toBe(200);
      const changedAt = Date.now();
      await ctx.admin.request('PUT', `/v1/admin/tiers/${tier}`, { requests_per_minute: 1 });
      await eventually(async () => (await check()).status === 429, 2000);
      expect(Date.now() - changedAt).toBeLessThan(2000);
    } finally {
      await other.close();
    }
  });
});
