import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { type TestApp, eventually, startTestApp, unique } from '../support/app.harness.js';
import { type Requester, httpClient } from '../support/http.client.js';
import { deleteKeysUnder } from '../support/redis-keys.js';

/**
 * SPEC §5: usage_ledger.caller is the api_clients.name whose key made the check — not the key
 * that settled it — so spend can be split by gateway. On Redis and on the in-process store.
 */

interface Gateway {
  name: string;
  request: Requester;
}

async function gateway(app: TestApp, label: string): Promise<Gateway> {
  const { name, key } = await insertApiClient(app.sql, label);
  return { name, request: httpClient(app.url, key) };
}

async function check(gw: Gateway, subject: string, ttlSeconds = 600): Promise<string> {
  const reply = await gw.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 100,
    max_tokens: 50,
    ttl_seconds: ttlSeconds,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return String(reply.body.reservation_id);
}

async function callerOf(app: TestApp, reservationId: string): Promise<unknown> {
  const { rows } = await app.sql(
    'SELECT caller, status FROM usage_ledger WHERE reservation_id = $1',
    [reservationId],
  );
  return rows[0];
}

for (const store of ['redis', 'in-process'] as const) {
  describe(`usage_ledger.caller (${store} store)`, () => {
    let app: TestApp;
    let a: Gateway;
    let b: Gateway;

    beforeAll(async () => {
      app = await startTestApp(store === 'redis' ? {} : { REDIS_URL: '' });
      [a, b] = await Promise.all([gateway(app, 'gateway_a'), gateway(app, 'gateway_b')]);
    });

    afterAll(async () => {
      await app?.close();
    });

    it('names the caller that checked, on commit and on refund, whoever settles', async () => {
      const subject = unique('caller_subject');
      const committed = await check(a, subject);
      const refunded = await check(a, subject);
      const commit = await b.request('POST', '/v1/commit', {
        reservation_id: committed,
        usage: { prompt_tokens: 100, completion_tokens: 20 },
      });
      expect(commit.status, JSON.stringify(commit.body)).toBe(200);
      const refund = await b.request('POST', '/v1/refund', { reservation_id: refunded });
      expect(refund.status, JSON.stringify(refund.body)).toBe(200);

      expect(await callerOf(app, committed)).toEqual({ caller: a.name, status: 'committed' });
      expect(await callerOf(app, refunded)).toEqual({ caller: a.name, status: 'refunded' });
    });

    if (store === 'redis') {
      it('names the caller that settled a reservation Redis lost before it was settled', async () => {
        const id = await check(a, unique('caller_lost'));
        expect(await deleteKeysUnder(app.redisUrl, app.keyPrefix)).toBeGreaterThan(0);
        const commit = await b.request('POST', '/v1/commit', {
          reservation_id: id,
          usage: { prompt_tokens: 100, completion_tokens: 20 },
        });
        expect(commit.status, JSON.stringify(commit.body)).toBe(200);
        // The signed id carries what settling needs, not who checked: the settler is recorded.
        expect(await callerOf(app, id)).toEqual({ caller: b.name, status: 'committed' });
      });
    }

    it('names the caller that checked on a reservation settled by expiry', async () => {
      const id = await check(b, unique('caller_expiry'), 1);
      // Settled within expiry + 10 s (SPEC §4).
      await eventually(
        async () => expect(await callerOf(app, id)).toEqual({ caller: b.name, status: 'expired' }),
        12_000,
        100,
      );
    });
  });
}
