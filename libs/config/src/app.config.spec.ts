import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppConfig } from './app.config.js';
import { AppConfigModule } from './config.module.js';
import { validateEnvironment } from './env.schema.js';

async function configFrom(env: Record<string, string>): Promise<AppConfig> {
  @Module({ imports: [AppConfigModule.forRoot(validateEnvironment(env))] })
  class ConfigOnlyModule {}
  const app = await NestFactory.createApplicationContext(ConfigOnlyModule, { logger: false });
  const config = app.get(AppConfig);
  await app.close();
  return config;
}

describe('AppConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('treats an empty DATABASE_URL or REDIS_URL as unset: the embedded database, no Redis', async () => {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'ALERT_WEBHOOK_URL']) {
      vi.stubEnv(name, '');
    }
    const config = await configFrom({ ...process.env } as Record<string, string>);
    expect(config.get('DATABASE_URL')).toBeUndefined();
    expect(config.embeddedDatabase).toBe(true);
    expect(config.get('REDIS_URL')).toBeUndefined();
    expect(config.get('ALERT_WEBHOOK_URL')).toBeUndefined();
  });

  it('answers the validated values only, never a raw variable they do not hold', async () => {
    vi.stubEnv('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/elsewhere');
    const config = await configFrom({});
    expect(config.get('DATABASE_URL')).toBeUndefined();
    expect(config.embeddedDatabase).toBe(true);
    expect(config.get('PORT')).toBe(3000);
  });
});
