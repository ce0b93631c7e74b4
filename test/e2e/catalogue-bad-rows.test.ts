import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '#ledger';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { httpClient, type Requester } from '../support/http.client.js';
import { testEnv } from '../support/test-env.js';

// Rows the service cannot use, written before the CHECKs existed (or with them dropped): they get
// a database of their own, so the run's shared catalogue stays clean for every other file.
const base = new URL(testEnv().databaseUrl);
const own = new URL(base);
own.pathname = `${base.pathname}_badrows`;
const key = `tb_test_${unique('badrows')}`;
let admin: pg.Client;
let db: pg.Client;
let t: TestApp;
let request: Requester;

const check = (subject: string, model = 'gpt-4o-mini') =>
  request('POST', '/v1/check', { subject, model, prompt_tokens: 10, max_tokens: 10 });

beforeAll(async () => {
  admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${own.pathname.slice(1)}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${own.pathname.slice(1)}"`);
  await migrateDatabase(own.toString());
  db = new pg.Client({ connectionString: own.toString() });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await t?.close();
  await db?.end();
  await admin.query(`DROP DATABASE IF EXISTS "${own.pathname.slice(1)}" WITH (FORCE)`);
  await admin.end();
});

describe('catalogue rows the service cannot use', () => {
  it('are refused by the database', async () => {
    await expect(
      db.query(`INSERT INTO tiers (name, daily_cost_limit_usd) VALUES ('x', 1000000000000)`),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.query(`INSERT INTO tiers (name, daily_cost_limit_usd) VALUES ('x', 9007199254.740992)`),
    ).rejects.toMatchObject({ code: '23514' });
    await db.query(
      `INSERT INTO tiers (name, daily_cost_limit_usd) VALUES ('ok_max', 9007199254.740991)`,
    );
    await expect(
      db.query(
        `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens)
         VALUES ('m', 'nope_base', 1, 1, 10)`,
      ),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.query(
        `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens)
         VALUES ('m', 'o200k_base', 1000000.000001, 1, 10)`,
      ),
    ).rejects.toMatchObject({ code: '23514' });
  });

  it('are skipped one by one: the start goes on, edits are still followed, checks answer 503', async () => {
    // As if written before the bounds existed.
    await db.query(`ALTER TABLE tiers DROP CONSTRAINT ck_tiers_daily_cost_limit_usd_max`);
    await db.query(`ALTER TABLE models DROP CONSTRAINT ck_models_encoding`);
    await db.query(`INSERT INTO tiers (name, daily_cost_limit_usd) VALUES ('huge', 1000000000000)`);
    await db.query(
      `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens)
       VALUES ('badenc', 'nope_base', 1, 1, 10)`,
    );
    await db.query(`INSERT INTO subjects (id, tier) VALUES ('s_huge', 'huge'), ('s_free', 'free')`);

    // DEFAULT_TIER names no row: the start must not stop either.
    t = await startTestApp({
      DATABASE_URL: own.toString(),
      BOOTSTRAP_API_KEY: key,
      DEFAULT_TIER: 'gone',
      CATALOGUE_RELOAD_SECONDS: '3600',
    });
    request = httpClient(t.url, key);

    expect((await check('s_free')).status).toBe(200);
    const huge = await check('s_huge');
    expect(huge.status).toBe(503);
    expect(huge.body).toMatchObject({ error: 'tier_unavailable', tier: 'huge' });
    expect(huge.body.message).toMatch(/"huge" cannot be used/);
    const model = await check('s_free', 'badenc');
    expect(model.status).toBe(503);
    expect(model.body).toMatchObject({ error: 'model_unavailable', model: 'badenc' });
    // A dated snapshot of the skipped row is not priced by `*` or any other row instead.
    const dated = await check('s_free', 'openai/badenc-2024-08-06');
    expect(dated.body).toMatchObject({ error: 'model_unavailable', model: 'badenc' });
    const nobody = await check(unique('nobody'));
    expect(nobody.status).toBe(503);
    expect(nobody.body).toMatchObject({ error: 'tier_unavailable', tier: 'gone' });

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toContain('token_budget_catalogue_rows_skipped{table="tiers",row="huge"} 1');
    expect(metrics).toContain('token_budget_catalogue_rows_skipped{table="models",row="badenc"} 1');

    // Later edits still take effect (no frozen catalogue).
    await db.query(`INSERT INTO tiers (name, requests_per_minute) VALUES ('later', 5)`);
    await db.query(`INSERT INTO subjects (id, tier) VALUES ('s_later', 'later')`);
    await eventually(async () => (await check('s_later')).body.tier === 'later', 2_000);
    await db.query(`INSERT INTO tiers (name) VALUES ('gone')`);
    await eventually(async () => (await check(unique('nobody'))).status === 200, 2_000);
    // A fixed row comes back, and leaves the metric.
    await db.query(`UPDATE tiers SET daily_cost_limit_usd = 5 WHERE name = 'huge'`);
    await eventually(async () => (await check('s_huge')).status === 200, 2_000);
    const after = await (await fetch(`${t.url}/metrics`)).text();
    expect(after).not.toContain('row="huge"');
  }, 90_000);
});
