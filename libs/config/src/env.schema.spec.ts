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
});
