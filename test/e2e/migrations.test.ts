/**
 * The migrations as an operator runs them (`npm run migration:run` / `migration:revert`: the
 * TypeORM CLI on the compiled data source), on a throwaway database of this file's own.
 * Precondition: dist/ exists (`npm test` builds first).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/polling.js';
import { assertTestDatabaseName, databaseUrlWithName } from '../support/test-database.js';
import { testEnv } from '../support/test-env.js';
import { MIGRATIONS } from '#migrations';

const DATA_SOURCE = 'dist/libs/ledger/src/data-source.js';
const databaseName = `token_budget_test_${randomBytes(4).toString('hex')}_mig`;
const databaseUrl = databaseUrlWithName(testEnv().databaseUrl, databaseName);

/** The totals spend reports read (not SPEC §5 tables: kept from usage_ledger by triggers). */
const SPEND_TOTALS = [
  'cost_usd',
  'requests',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'settlements',
];

/** SPEC §5: every table and its columns. */
const TABLES: Record<string, string[]> = {
  tiers: [
    'name',
    'requests_per_minute',
    'tokens_per_minute',
    'token_burst',
    'max_concurrent',
    'daily_cost_limit_usd',
    'monthly_cost_limit_usd',
    'alert_thresholds',
    'updated_at',
  ],
  subjects: ['id', 'tier', 'parent', 'created_at', 'updated_at'],
  models: [
    'name',
    'encoding',
    'input_usd_per_mtok',
    'cached_input_usd_per_mtok',
    'output_usd_per_mtok',
    'default_max_tokens',
    'token_multiplier',
  ],
  tier_model_limits: ['tier', 'model', 'requests_per_minute', 'tokens_per_minute'],
  api_clients: ['id', 'name', 'key_sha256', 'role', 'created_at', 'revoked_at'],
  usage_ledger: [
    'id',
    'reservation_id',
    'subject',
    'tier',
    'model',
    'caller',
    'prompt_tokens',
    'cached_tokens',
    'completion_tokens',
    'cost_usd',
    'status',
    'reserved_at',
    'settled_at',
  ],
  daily_usage: ['subject', 'day', 'cost_usd', 'requests', 'prompt_tokens', 'completion_tokens'],
  admin_audit: ['id', 'at', 'actor', 'action', 'target', 'before', 'after'],
  spend_daily_subjects: ['day', 'subject', ...SPEND_TOTALS],
  spend_daily_models: ['day', 'model', 'tier', 'caller', ...SPEND_TOTALS],
  budget_alerts: [
    'id',
    'subject',
    'tier',
    'window',
    'period',
    'threshold_percent',
    'limit_usd',
    'spent_usd',
    'raised_at',
    'delivered_at',
    'attempts',
    'last_error',
    'next_attempt_at',
  ],
};
const CATALOGUE = ['tiers', 'subjects', 'models', 'tier_model_limits'];

function typeorm(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['node_modules/typeorm/cli.js', '-d', DATA_SOURCE, command],
      { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }),
    );
  });
}

let admin: pg.Client;
let db: pg.Pool;
const query = async <T extends pg.QueryResultRow>(text: string, params?: unknown[]) =>
  (await db.query<T>(text, params)).rows;

beforeAll(async () => {
  if (!existsSync(DATA_SOURCE)) {
    throw new Error(`${DATA_SOURCE} is missing: run \`npm run build\` first (npm test does).`);
  }
  assertTestDatabaseName(databaseUrl);
  admin = new pg.Client({ connectionString: testEnv().databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${databaseName}"`);
  db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // DROP DATABASE ... WITH (FORCE) at the end may still find a closing connection.
  db.on('error', () => undefined);
});

afterAll(async () => {
  await db?.end();
  await admin?.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  await admin?.end();
});

async function projectTables(): Promise<string[]> {
  const rows = await query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
  );
  return rows.map((row) => row.table_name);
}

async function projectFunctions(): Promise<string[]> {
  const rows = await query<{ proname: string }>(
    `SELECT proname FROM pg_proc WHERE proname LIKE 'token\\_budget\\_%' ORDER BY 1`,
  );
  return rows.map((row) => row.proname);
}

describe('migrations through the TypeORM CLI', () => {
  it('run, revert down to nothing, and run again', async () => {
    const first = await typeorm('migration:run');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/CreateSchema\d+ has been executed successfully/);
    expect(first.stdout).toMatch(/SeedCatalogue\d+ has been executed successfully/);
    expect(await projectTables()).toEqual(expect.arrayContaining(Object.keys(TABLES)));

    // The migrations after the seed revert one by one, newest first.
    for (const migration of MIGRATIONS.slice(2).reverse()) {
      const revert = await typeorm('migration:revert');
      expect(revert.code, revert.stderr).toBe(0);
      expect(revert.stdout).toContain(`Migration ${migration.name} has been reverted successfully`);
    }
    // The seed is not reverted under a subject that uses a seeded tier: it fails and changes nothing.
    await query(`INSERT INTO subjects (id, tier) VALUES ('someone', 'standard')`);
    const refused = await typeorm('migration:revert');
    expect(refused.code).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/fk_subjects_tier/);
    expect(await query('SELECT name FROM token_budget_migrations')).toHaveLength(2);
    expect(await query('SELECT name FROM tiers')).toHaveLength(3);
    await query(`DELETE FROM subjects`);

    const reverts: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const revert = await typeorm('migration:revert');
      expect(revert.code, revert.stderr).toBe(0);
      if (/Nothing to revert/.test(revert.stdout)) {
        break;
      }
      reverts.push(
        /Migration (\w+) has been reverted successfully/.exec(revert.stdout)?.[1] ?? '?',
      );
    }
    expect(reverts).toEqual(['SeedCatalogue1764000000001', 'CreateSchema1764000000000']);
    // Only TypeORM's own bookkeeping table stays, empty.
    expect(await projectTables()).toEqual(['token_budget_migrations']);
    expect(await query('SELECT * FROM token_budget_migrations')).toEqual([]);
    expect(await projectFunctions()).toEqual([]);
    expect(
      await query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'public' AND c.relkind <> 'i'
                     AND c.relname NOT LIKE 'token\\_budget\\_migrations%'`),
    ).toEqual([]);
    expect(await query(`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal`)).toEqual([]);

    const again = await typeorm('migration:run');
    expect(again.code, again.stderr).toBe(0);
    const shown = await typeorm('migration:show');
    expect(shown.stdout).toMatch(/\[X\] \d+ CreateSchema/);
    expect(shown.stdout).toMatch(/\[X\] \d+ SeedCatalogue/);
  }, 300_000);

  it('brings back every table of SPEC §5 with its columns', async () => {
    for (const [table, columns] of Object.entries(TABLES)) {
      const rows = await query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1`,
        [table],
      );
      expect(rows.map((row) => row.column_name).sort(), table).toEqual([...columns].sort());
    }
    expect(await projectFunctions()).toEqual([
      'token_budget_check_scope',
      'token_budget_notify_catalogue',
      'token_budget_roll_up_spend',
      'token_budget_touch_updated_at',
    ]);
  });

  it('seeds the tiers with SPEC values and priced models', async () => {
    const tiers = await query(
      `SELECT name, requests_per_minute AS rpm, tokens_per_minute AS tpm, token_burst AS burst,
              max_concurrent AS concurrent, daily_cost_limit_usd::text AS daily
       FROM tiers ORDER BY requests_per_minute`,
    );
    expect(tiers).toEqual([
      { name: 'free', rpm: 10, tpm: 10_000, burst: null, concurrent: 2, daily: '1' },
      { name: 'standard', rpm: 60, tpm: 100_000, burst: null, concurrent: 10, daily: '50' },
      { name: 'enterprise', rpm: 300, tpm: 1_000_000, burst: null, concurrent: 50, daily: null },
    ]);
    const models = await query<{ name: string; input: string; output: string; multiplier: string }>(
      `SELECT name, input_usd_per_mtok::text AS input, output_usd_per_mtok::text AS output,
              token_multiplier::text AS multiplier, encoding FROM models`,
    );
    expect(models.length).toBeGreaterThanOrEqual(10);
    expect(models.find((model) => model.name === 'gpt-4o')).toMatchObject({
      input: '2.5',
      output: '10',
    });
    expect(models.find((model) => model.name === 'gpt-4o-mini')).toMatchObject({
      input: '0.15',
      output: '0.6',
    });
    for (const model of models) {
      expect(Number(model.input) + Number(model.output), model.name).toBeGreaterThan(0);
    }
    // Non-OpenAI models: an approximating encoding times a multiplier.
    expect(models.filter((model) => Number(model.multiplier) > 1).length).toBeGreaterThan(0);
  });

  it('keeps the SQL contract: defaults, exact money, and notifications from the four catalogue tables', async () => {
    for (const table of CATALOGUE) {
      const triggers = await query<{ tgname: string; proname: string }>(
        `SELECT t.tgname, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgrelid = $1::regclass AND NOT t.tgisinternal`,
        [table],
      );
      expect(triggers, table).toContainEqual({
        tgname: `tg_${table}_notify`,
        proname: 'token_budget_notify_catalogue',
      });
    }

    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    try {
      const payloads: string[] = [];
      listener.on('notification', (message) => payloads.push(message.payload ?? ''));
      await listener.query('LISTEN token_budget_catalogue');
      await query(`INSERT INTO subjects (id, tier) VALUES ('user_123', 'standard')`);
      await query(`UPDATE tiers SET tokens_per_minute = 20000 WHERE name = 'free'`);
      await query(`UPDATE models SET input_usd_per_mtok = 2.00 WHERE name = 'gpt-4o'`);
      await query(
        `INSERT INTO tier_model_limits (tier, model, requests_per_minute, tokens_per_minute)
         VALUES ('free', 'o3', 2, 5000)`,
      );
      await eventually(
        () => expect([...payloads].sort()).toEqual([...CATALOGUE].sort()),
        2_000,
        20,
      );
    } finally {
      await listener.end();
    }

    const [subject] = await query<{ created_at: Date }>(
      `SELECT created_at FROM subjects WHERE id = 'user_123'`,
    );
    expect(subject?.created_at).toBeInstanceOf(Date);
    const key = randomBytes(8).toString('hex');
    await query(
      `INSERT INTO api_clients (name, key_sha256) VALUES ('gw', encode(sha256($1::bytea), 'hex'))`,
      [key],
    );
    await expect(
      query(`UPDATE tiers SET daily_cost_limit_usd = 1.0000001 WHERE name = 'free'`),
    ).rejects.toThrow(/ck_tiers_daily_cost_limit_usd/);
    await expect(
      query(`UPDATE models SET output_usd_per_mtok = 0.0000001 WHERE name = 'gpt-4o'`),
    ).rejects.toThrow(/ck_models_output_price/);
    await query(`UPDATE tiers SET daily_cost_limit_usd = 12.345678 WHERE name = 'free'`);
  });
});
