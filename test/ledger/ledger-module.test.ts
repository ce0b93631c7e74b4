import { utcDay } from '#kernel';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DailyCostSource } from '#budget';
import { AppConfigModule, validateEnvironment } from '#config';
import {
  ApiClientRepository,
  CatalogueService,
  DailyUsageRepository,
  LedgerModule,
  LedgerWriter,
} from '#ledger';
import { testEnv } from '../support/test-env.js';
import { openDataSource, settlement } from './ledger.helpers.js';

let direct: DataSource;

beforeAll(async () => {
  direct = await openDataSource(testEnv().databaseUrl);
});

afterAll(async () => {
  await direct.destroy();
});

it('wires the ledger from configuration and flushes queued appends on shutdown', async () => {
  const env = validateEnvironment({
    DATABASE_URL: testEnv().databaseUrl,
    DEFAULT_TIER: 'standard',
    LEDGER_BATCH_WAIT_MS: '1000', // long enough that only the shutdown flush sends it
  });
  @Module({ imports: [AppConfigModule.forRoot(env), LedgerModule] })
  class TestAppModule {}
  const app = await NestFactory.createApplicationContext(TestAppModule, {
    logger: false,
    abortOnError: false,
  });
  const writer = app.get(LedgerWriter);
  expect(app.get(DailyCostSource)).toBe(app.get(DailyUsageRepository));
  expect(app.get(ApiClientRepository)).toBeInstanceOf(ApiClientRepository);
  const catalogue = app.get(CatalogueService);
  expect(catalogue.tierOf('someone-without-a-row')).toBe('standard');
  expect(catalogue.listening).toBe(true);

  const s = settlement({ costMicros: 4_200 });
  const appended = writer.append(s);
  await app.close();
  await expect(appended).resolves.toBeUndefined();

  const daily = new DailyUsageRepository(direct); // the app's pool is closed by now
  expect(await daily.committedCostMicros(s.subject, utcDay(s.settledAtMs))).toBe(4_200);
});
