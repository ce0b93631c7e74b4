import pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '#ledger';
import { CatalogueService } from '#ledger';
import { testEnv } from '../support/test-env.js';
import { PostgresProxy, openDataSource } from './ledger.helpers.js';
import { eventually, unique } from '../support/polling.js';

describe('the * model row', () => {
  // A `*` row changes every unknown-model answer, so it gets a database of its own rather than
  // the run's shared one, where other files expect unknown_model.
  const base = new URL(testEnv().databaseUrl);
  const own = new URL(base);
  own.pathname = `${base.pathname}_star`;
  let admin: pg.Client;
  let dataSource: DataSource;
  let catalogue: CatalogueService;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: base.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${own.pathname.slice(1)}"`);
    await migrateDatabase(own.toString());
    dataSource = await openDataSource(own.toString());
    catalogue = new CatalogueService(dataSource, {
      defaultTier: 'free',
      reloadSeconds: 3600,
      listen: { url: own.toString() },
    });
    await catalogue.onModuleInit();
  });

  afterAll(async () => {
    await catalogue?.onModuleDestroy();
    await dataSource?.destroy();
    await admin.query(`DROP DATABASE IF EXISTS "${own.pathname.slice(1)}" WITH (FORCE)`);
    await admin.end();
  });

  it('prices any model without a row of its own once it exists', async () => {
    expect(() => catalogue.requireModel('some-new-model')).toThrow(/Unknown model/);
    await dataSource.query(
      `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens)
       VALUES ('*', 'o200k_base', '100', '200', 1000)`,
    );
    await eventually(() => expect(catalogue.model('some-new-model')).toBeDefined(), 2_000);
    expect(catalogue.requireModel('some-new-model')).toEqual({
      name: 'some-new-model',
      row: '*',
      encoding: 'o200k_base',
      tokenMultiplier: 1,
      defaultMaxTokens: 1000,
      pricing: { inputPicosPerToken: 100_000_000, outputPicosPerToken: 200_000_000 },
    });
    // A model with its own row keeps it.
    expect(catalogue.requireModel('gpt-4o').row).toBe('gpt-4o');
  });
});

describe('CatalogueService while Postgres is unreachable', () => {
  let direct: DataSource;

  beforeAll(async () => {
    direct = await openDataSource(testEnv().databaseUrl);
  });

  afterAll(async () => {
    await direct.destroy();
  });

  it('keeps serving the last good catalogue, then catches up when Postgres returns', async () => {
    const proxy = new PostgresProxy(new URL(testEnv().databaseUrl));
    await proxy.start();
    const dataSource = await openDataSource(proxy.url);
    const catalogue = new CatalogueService(dataSource, {
      defaultTier: 'free',
      reloadSeconds: 1,
      listen: { url: proxy.url },
      reconnectBackoffMs: { min: 50, max: 200 },
    });
    const tier = unique('tier');
    const subject = unique('subj');
    await direct.query(`INSERT INTO tiers (name, requests_per_minute) VALUES ($1, 10)`, [tier]);
    await direct.query(`INSERT INTO subjects (id, tier) VALUES ($1, $2)`, [subject, tier]);
    try {
      await catalogue.onModuleInit();
      expect(catalogue.tierOf(subject)).toBe(tier);

      await proxy.stop();
      await eventually(() => expect(catalogue.listening).toBe(false), 2_000);
      await expect(catalogue.reload()).rejects.toThrow();
      await direct.query(`UPDATE tiers SET requests_per_minute = 11 WHERE name = $1`, [tier]);
      // Periodic reloads fail meanwhile; lookups keep answering from memory.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(catalogue.tierOf(subject)).toBe(tier);
      expect(catalogue.limitsFor(tier, 'gpt-4o').requests?.capacity).toBe(10);
      expect(catalogue.requireModel('gpt-4o').pricing.inputPicosPerToken).toBe(2_500_000);

      await proxy.start();
      await eventually(() => {
        expect(catalogue.listening).toBe(true);
        expect(catalogue.limitsFor(tier, 'gpt-4o').requests?.capacity).toBe(11);
      }, 3_000);
    } finally {
      await catalogue.onModuleDestroy();
      await dataSource.destroy().catch(() => undefined);
      await proxy.stop();
    }
  });
});
