import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** This run's database, Redis and key prefix, with a fresh sub-prefix per caller so files never share keys. */
export function testEnv(): { databaseUrl: string; redisUrl: string; keyPrefix: string } {
  return {
    databaseUrl: inject('databaseUrl'),
    redisUrl: inject('redisUrl'),
    keyPrefix: `${inject('keyPrefix')}${randomBytes(3).toString('hex')}:`,
  };
}
