import { utcDay } from '#kernel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { afterAll, expect, it } from 'vitest';
import { AppConfigModule, validateEnvironment } from '#config';
import { CatalogueService, DailyUsageRepository, LedgerModule, LedgerWriter } from '#ledger';
import { settlement } from './ledger.helpers.js';
import { eventually } from '../support/polling.js';

const dataDir = mkdtempSync(join(tmpdir(), 'token-budget-ledger-'));

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

it('runs on the embedded database: migrated on start, writes, follows in-process edits', async () => {
  // No DATABASE_URL: the embedded database, under a DATA_DIR whose parents do not exist yet.
  const env = validateEnvironment({ DATA_DIR: join(dataDir, 'nested', 'data') });
  @Module({ imports: [AppConfigModule.forRoot(env), LedgerModule] })
  class EmbeddedAppModule {}
  const app = await NestFactory.createApplicationContext(EmbeddedAppModule, {
    logger: false,
    abortOnError: false,
  });
  try {
    const catalogue = app.get(CatalogueService);
    expect(catalogue.limitsFor('free', 'gpt-4o').dailyCostMicros).toBe(1_000_000);

    const writer = app.get(LedgerWriter);
    const daily = app.get(DailyUsageRepository);
    const s = settlement({ costMicros: 999, promptTokens: 7, completionTokens: 3 });
    await Promise.all([writer.append(s), writer.append(s), writer.append({ ...s })]);
    expect(await daily.today(s.subject, utcDay(s.settledAtMs))).toEqual({
      costMicros: 999,
      requests: 1,
      promptTokens: 7,
      completionTokens: 3,
    });

    await app
      .get(DataSource)
      .query(`UPDATE tiers SET requests_per_minute = 12 WHERE name = 'free'`);
    await eventually(
      () => expect(catalogue.limitsFor('free', 'gpt-4o').requests?.capacity).toBe(12),
      2_000,
    );
  } finally {
    await app.close();
  }
});
