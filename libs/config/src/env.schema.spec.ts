import { describe, expect, it } from 'vitest';
import { validateEnvironment } from './env.schema.js';

describe('validateEnvironment', () => {
  it('fills every default when nothing is set', () => {
    const config = validateEnvironment({});
    expect(config.PORT).toBe(3000);
    expect(config.DEFAULT_TIER).toBe('free');
    expect(config.RESERVATION_TTL_SECONDS).toBe(600);
    expect(config.RESERVATION_TTL_MAX_SECONDS).toBe(3600);
    expect(config.EXPIRED_RESERVATION_POLICY).toBe('charge');
    expect(config.REDIS_FAILURE_MODE).toBe('local');
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('parses numbers and keeps given URLs', () => {
    const config = validateEnvironment({
      PORT: '8080',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/app',
    });
    expect(config.PORT).toBe(8080);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['DATABASE_URL', 'mysql://x'],
    ['EXPIRED_RESERVATION_POLICY', 'forgive'],
    ['REDIS_FAILURE_MODE', 'maybe'],
    ['RESERVATION_TTL_SECONDS', '0'],
    ['BOOTSTRAP_API_KEY', 'short'],
    ['ALERT_WEBHOOK_URL', 'hooks.example.com/budget'],
    ['ALERT_WEBHOOK_URL', 'ftp://hooks.example.com'],
    ['ALERT_WEBHOOK_TIMEOUT_MS', '0'],
    ['ALERT_RETRY_BASE_MS', 'soon'],
    ['ALERT_POLL_MS', '5'],
  ])('names %s when it is %s', (name, value) => {
    expect(() => validateEnvironment({ [name]: value })).toThrow(
      new RegExp(`^Invalid configuration: ${name}=`),
    );
  });

  it('refuses a default TTL above the maximum', () => {
    expect(() =>
      validateEnvironment({ RESERVATION_TTL_SECONDS: '4000', RESERVATION_TTL_MAX_SECONDS: '3600' }),
    ).toThrow(/RESERVATION_TTL_SECONDS=4000 exceeds/);
  });

  it('wants ALERT_WEBHOOK_SECRET with ALERT_WEBHOOK_URL, and never echoes it', () => {
    const url = 'http://127.0.0.1:9999/budget-alerts';
    expect(() => validateEnvironment({ ALERT_WEBHOOK_URL: url })).toThrow(
      /^Invalid configuration: ALERT_WEBHOOK_SECRET=undefined: .*must be set when ALERT_WEBHOOK_URL is/,
    );
    let message = '';
    try {
      validateEnvironment({ ALERT_WEBHOOK_URL: url, ALERT_WEBHOOK_SECRET: 'tooshort-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /^Invalid configuration: ALERT_WEBHOOK_SECRET="\*\*\*": must be at least 16/,
    );
    expect(message).not.toContain('tooshort-secret');
    const config = validateEnvironment({
      ALERT_WEBHOOK_URL: url,
      ALERT_WEBHOOK_SECRET: 'a-long-enough-secret',
    });
    expect(config).toMatchObject({
      ALERT_WEBHOOK_URL: url,
      ALERT_WEBHOOK_TIMEOUT_MS: 5_000,
      ALERT_RETRY_BASE_MS: 1_000,
      ALERT_POLL_MS: 1_000,
    });
    expect(validateEnvironment({}).ALERT_WEBHOOK_URL).toBeUndefined();
    expect(() =>
      validateEnvironment({ ALERT_RETRY_BASE_MS: '5000', ALERT_RETRY_MAX_MS: '1000' }),
    ).toThrow(/ALERT_RETRY_BASE_MS=5000 exceeds ALERT_RETRY_MAX_MS=1000/);
  });
});
