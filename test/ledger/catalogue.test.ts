import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogueService } from '#ledger';
import { UnknownModelError, UnknownTierError } from '#kernel';
import { testEnv } from '../support/test-env.js';
import { openDataSource } from './ledger.helpers.js';
import { eventually, unique } from '../support/polling.js';

/** SPEC §5: an edit takes effect within 2 seconds. */
const WITHIN_MS = 2_000;

let dataSource: DataSource;
let catalogue: CatalogueService;

async function startCatalogue(
  options: Partial<ConstructorParameters<typeof CatalogueService>[1]> = {},
) {
  const service = new CatalogueService(dataSource, {
    defaultTier: 'free',
    // Far beyond the test: whatever is seen in time came through LISTEN/NOTIFY.
    reloadSeconds: 3600,
    listen: { url: testEnv().databaseUrl, applicationName: unique('catalogue_test') },
    ...options,
  });
  await service.onModuleInit();
  return service;
}

beforeAll(async () => {
  dataSource = await openDataSource(testEnv().databaseUrl);
  catalogue = await startCatalogue();
});

afterAll(async () => {
  await catalogue.onModuleDestroy();
  await dataSource.destroy();
});

async function newTier(rpm = 10): Promise<string> {
  const name = unique('tier');
  await dataSource.query(
    `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent, daily_cost_limit_usd)
     VALUES ($1, $2, 1000, 1500, 3, '2.5')`,
    [name, rpm],
  );
  return name;
}

async function newModel(): Promise<string> {
  const name = unique('model');
  await dataSource.query(
    `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens, token_multiplier)
     VALUES ($1, 'cl100k_base', '1.25', '10', 2048, '1.2')`,
    [name],
  );
  return name;
}

describe('CatalogueService', () => {
  it('serves the seeded catalogue: tiers, models, default tier', () => {
    expect(catalogue.tierOf(unique('nobody'))).toBe('free');
    expect(catalogue.limitsFor('free', 'gpt-4o')).toEqual({
      requests: { capacity: 10, perMinute: 10 },
      tokens: { capacity: 10_000, perMinute: 10_000 },
      concurrent: 2,
      dailyCostMicros: 1_000_000,
      monthlyCostMicros: null,
      modelRequests: null,
      modelTokens: null,
    });
    expect(catalogue.limitsFor('enterprise', 'gpt-4o').dailyCostMicros).toBeNull();
    expect(catalogue.requireModel('gpt-4o')).toEqual({
      name: 'gpt-4o',
      row: 'gpt-4o',
      encoding: 'o200k_base',
      tokenMultiplier: 1,
      defaultMaxTokens: 4096,
      pricing: {
        inputPicosPerToken: 2_500_000,
        cachedInputPicosPerToken: 1_250_000,
        outputPicosPerToken: 10_000_000,
      },
    });
    // Dated snapshots and provider prefixes find the catalogued row (SPEC §4).
    expect(catalogue.requireModel('gpt-4o-2024-08-06').row).toBe('gpt-4o');
    expect(catalogue.requireModel('openai/gpt-4o-mini-2024-07-18').name).toBe('gpt-4o-mini');
    expect(catalogue.requireModel('o3-mini-2025-01-31').pricing).toEqual({
      inputPicosPerToken: 1_100_000,
      cachedInputPicosPerToken: 550_000,
      outputPicosPerToken: 4_400_000,
    });
    // No published cached price: none in the pricing, cached input costs the input price.
    expect(catalogue.requireModel('gpt-4-0613').pricing).toEqual({
      inputPicosPerToken: 30_000_000,
      outputPicosPerToken: 60_000_000,
    });
    expect(catalogue.requireModel('claude-sonnet-4').tokenMultiplier).toBe(1.2);
    expect(catalogue.modelEncodings()).toEqual(
      expect.arrayContaining(['o200k_base', 'cl100k_base']),
    );
    expect(catalogue.tiers().map((tier) => tier.name)).toEqual(
      expect.arrayContaining(['free', 'standard', 'enterprise']),
    );
    expect(catalogue.tier('standard')?.dailyCostLimitMicros).toBe(50_000_000);
    expect(catalogue.listening).toBe(true);
  });

  it('refuses an unknown model with unknown_model (400), never pricing it as free', () => {
    const name = unique('no-such-model');
    expect(catalogue.model(name)).toBeUndefined();
    let error: unknown;
    try {
      catalogue.requireModel(name);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownModelError);
    expect(error).toMatchObject({ code: 'unknown_model', status: 400, details: { model: name } });
    expect(() => catalogue.limitsFor(unique('no-such-tier'), 'gpt-4o')).toThrow(UnknownTierError);
  });

  it('sees UPDATE tiers within 2 s', async () => {
    const tier = await newTier();
    await eventually(() => expect(catalogue.tier(tier)).toBeDefined(), WITHIN_MS);
    expect(catalogue.limitsFor(tier, 'gpt-4o')).toMatchObject({
      requests: { capacity: 10, perMinute: 10 },
      tokens: { capacity: 1500, perMinute: 1000 }, // token_burst is the capacity
      concurrent: 3,
      dailyCostMicros: 2_500_000,
    });

    await dataSource.query(
      `UPDATE tiers SET requests_per_minute = 77, token_burst = NULL, max_concurrent = NULL,
              daily_cost_limit_usd = '0.000001', monthly_cost_limit_usd = '12.5' WHERE name = $1`,
      [tier],
    );
    const took = await eventually(
      () => expect(catalogue.limitsFor(tier, 'gpt-4o').requests?.capacity).toBe(77),
      WITHIN_MS,
    );
    expect(catalogue.limitsFor(tier, 'gpt-4o')).toMatchObject({
      tokens: { capacity: 1000, perMinute: 1000 },
      concurrent: null,
      dailyCostMicros: 1,
      monthlyCostMicros: 12_500_000,
    });
    expect(took).toBeLessThan(WITHIN_MS);
  });

  it('sees INSERT INTO subjects within 2 s', async () => {
    const tier = await newTier();
    const subject = unique('subj');
    expect(catalogue.tierOf(subject)).toBe('free');
    await dataSource.query(`INSERT INTO subjects (id, tier) VALUES ($1, $2)`, [subject, tier]);
    await eventually(() => expect(catalogue.tierOf(subject)).toBe(tier), WITHIN_MS);
    await dataSource.query(`UPDATE subjects SET tier = 'standard' WHERE id = $1`, [subject]);
    await eventually(() => expect(catalogue.tierOf(subject)).toBe('standard'), WITHIN_MS);
    await dataSource.query(`DELETE FROM subjects WHERE id = $1`, [subject]);
    await eventually(() => expect(catalogue.tierOf(subject)).toBe('free'), WITHIN_MS);
  });

  it('sees a models price change within 2 s', async () => {
    const model = await newModel();
    await eventually(() => expect(catalogue.model(model)).toBeDefined(), WITHIN_MS);
    expect(catalogue.requireModel(model).pricing).toEqual({
      inputPicosPerToken: 1_250_000,
      outputPicosPerToken: 10_000_000,
    });
    await dataSource.query(
      `UPDATE models SET input_usd_per_mtok = '0.000001', output_usd_per_mtok = '123.456789',
                         cached_input_usd_per_mtok = '0.000002' WHERE name = $1`,
      [model],
    );
    await eventually(
      () =>
        expect(catalogue.requireModel(model).pricing).toEqual({
          inputPicosPerToken: 1,
          cachedInputPicosPerToken: 2,
          outputPicosPerToken: 123_456_789,
        }),
      WITHIN_MS,
    );
    await dataSource.query(`DELETE FROM models WHERE name = $1`, [model]);
    await eventually(
      () => expect(() => catalogue.requireModel(model)).toThrow(UnknownModelError),
      WITHIN_MS,
    );
  });

  it('sees a tier_model_limits row within 2 s, and a (tier, *) row for other models', async () => {
    const tier = await newTier();
    const model = await newModel();
    await eventually(() => expect(catalogue.tier(tier)).toBeDefined(), WITHIN_MS);
    expect(catalogue.limitsFor(tier, model).modelRequests).toBeNull();

    await dataSource.query(
      `INSERT INTO tier_model_limits (tier, model, requests_per_minute, tokens_per_minute) VALUES ($1, $2, 5, NULL)`,
      [tier, model],
    );
    await eventually(
      () =>
        expect(catalogue.limitsFor(tier, model).modelRequests).toEqual({
          capacity: 5,
          perMinute: 5,
        }),
      WITHIN_MS,
    );
    expect(catalogue.limitsFor(tier, model).modelTokens).toBeNull();
    expect(catalogue.limitsFor(tier, 'gpt-4o').modelRequests).toBeNull();
    expect(catalogue.limitsFor(tier, null).modelRequests).toBeNull();

    await dataSource.query(
      `INSERT INTO tier_model_limits (tier, model, requests_per_minute, tokens_per_minute) VALUES ($1, '*', 2, 200)`,
      [tier],
    );
    await eventually(
      () =>
        expect(catalogue.limitsFor(tier, 'gpt-4o').modelTokens).toEqual({
          capacity: 200,
          perMinute: 200,
        }),
      WITHIN_MS,
    );
    expect(catalogue.limitsFor(tier, model).modelRequests).toEqual({ capacity: 5, perMinute: 5 });
    expect(catalogue.limitsFor(tier, null).modelRequests).toBeNull();
  });

  it('keeps hearing edits after its LISTEN connection is killed', async () => {
    const tier = await newTier();
    const firstPid = catalogue.listenerPid;
    expect(firstPid).toBeDefined();
    const [{ killed }] = await dataSource.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE pid = $1 AND query LIKE 'LISTEN%'`,
      [firstPid],
    );
    expect(killed).toBe(true);
    const killedAt = Date.now();
    await eventually(() => {
      expect(catalogue.listening).toBe(true);
      expect(catalogue.listenerPid).not.toBe(firstPid);
      // The full reload that follows a reconnection is done: what comes next is a notification.
      expect(catalogue.loadedAtMs).toBeGreaterThan(killedAt);
    }, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));

    await dataSource.query(`UPDATE tiers SET requests_per_minute = 42 WHERE name = $1`, [tier]);
    await eventually(
      () => expect(catalogue.limitsFor(tier, 'gpt-4o').requests?.capacity).toBe(42),
      WITHIN_MS,
    );
  });

  it('catches up on an edit made while its connection was down', async () => {
    const tier = await newTier();
    await eventually(() => expect(catalogue.tier(tier)).toBeDefined(), WITHIN_MS);
    await dataSource.query(`SELECT pg_terminate_backend($1)`, [catalogue.listenerPid]);
    // Edited at once, before the listener can be back: the notification is lost.
    await dataSource.query(`UPDATE tiers SET requests_per_minute = 43 WHERE name = $1`, [tier]);
    const took = await eventually(
      () => expect(catalogue.limitsFor(tier, 'gpt-4o').requests?.capacity).toBe(43),
      WITHIN_MS + 1_000,
    );
    expect(took).toBeLessThan(WITHIN_MS); // the reconnect's full reload finds it
  });

  it('starts without the default tier, whose subjects answer 503 until it exists', async () => {
    const missing = unique('missing');
    const service = await startCatalogue({ defaultTier: missing });
    try {
      const subject = unique('nobody');
      expect(service.tierOf(subject)).toBe(missing);
      expect(() => service.limitsFor(missing, 'gpt-4o')).toThrow(
        expect.objectContaining({ code: 'tier_unavailable', status: 503 }),
      );
      await dataSource.query(`INSERT INTO tiers (name, requests_per_minute) VALUES ($1, 7)`, [
        missing,
      ]);
      await eventually(
        () => expect(service.limitsFor(missing, 'gpt-4o').requests?.capacity).toBe(7),
        WITHIN_MS,
      );
    } finally {
      await service.onModuleDestroy();
    }
  });
});
