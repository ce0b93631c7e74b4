import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThrowawayRedis } from '../support/redis-server.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';
import { unique } from '../support/app.harness.js';

/**
 * SPEC §7: reservations decided in-process (here: REDIS_FAILURE_MODE=local while Redis is down)
 * are not forgotten: at SIGTERM each is settled by EXPIRED_RESERVATION_POLICY into the ledger.
 */

let redis: ThrowawayRedis;
let service: ServiceProcess;
let sql: pg.Pool;
const key = `tb_shutdown_${unique('k')}_0123456789`;

beforeAll(async () => {
  const env = testEnv();
  redis = await ThrowawayRedis.start();
  sql = new pg.Pool({ connectionString: env.databaseUrl, max: 1 });
  service = await startServiceProcess({
    REDIS_URL: redis.url,
    DATABASE_URL: env.databaseUrl,
    REDIS_KEY_PREFIX: env.keyPrefix,
    REDIS_FAILURE_MODE: 'local',
    EXPIRED_RESERVATION_POLICY: 'charge',
    BOOTSTRAP_API_KEY: key,
  });
});

afterAll(async () => {
  await service?.stop();
  await redis?.kill();
  await sql?.end();
});

describe('SIGTERM with reservations held in the local fallback', () => {
  it('settles each by the expiry policy before exiting', async () => {
    await redis.kill();
    const subject = unique('local_held');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const reply = await fetch(`${service.url}/v1/check`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          subject,
          model: 'gpt-4o-mini',
          prompt_tokens: 1000,
          max_tokens: 100,
        }),
      });
      const body = (await reply.json()) as Record<string, unknown>;
      expect(reply.status, JSON.stringify(body)).toBe(200);
      ids.push(String(body.reservation_id));
    }
    await service.stop(20_000);
    expect(service.child.exitCode).toBe(0);
    const rows = await sql.query(
      `SELECT reservation_id, status, cost_usd::text AS cost FROM usage_ledger
        WHERE reservation_id = ANY($1) ORDER BY reservation_id`,
      [ids],
    );
    // Charged at the estimate: 1000 × $0.15/M + 100 × $0.60/M.
    expect(rows.rows).toEqual(
      [...ids].sort().map((id) => ({ reservation_id: id, status: 'expired', cost: '0.000210' })),
    );
  }, 60_000);
});
