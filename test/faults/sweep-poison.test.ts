import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';

/**
 * A sweep never stalls on one bad reservation: the expiry sweep appends its batch as one
 * statement, which one row Postgres refuses fails as a whole. The sweeper then writes the batch
 * one by one: every good settlement reaches the ledger, the bad one is logged and kept pending
 * (never dropped: once Postgres takes it, it is recorded, exactly once), and later sweeps go on.
 * Postgres is made to refuse one subject's rows with a trigger on usage_ledger.
 */

const SWEPT_WITHIN_MS = 25_000;
let t: TestApp;
let good: string;
let poison: string;
const trigger = unique('refuse_poison');

const check = async (subject: string): Promise<string> => {
  const reply = await t.request('POST', '/v1/check', {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 100,
    max_tokens: 10,
    ttl_seconds: 1,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return String(reply.body.reservation_id);
};

const ledger = async (ids: string[]): Promise<{ reservation_id: string; status: string }[]> =>
  (
    await t.sql(
      'SELECT reservation_id, status FROM usage_ledger WHERE reservation_id = ANY($1) ORDER BY 1',
      [ids],
    )
  ).rows as { reservation_id: string; status: string }[];

beforeAll(async () => {
  t = await startTestApp({ EXPIRED_RESERVATION_POLICY: 'charge' });
  const tier = await createTier(t.sql, 'poison', { requestsPerMinute: 1000 });
  good = await subjectOnTier(t.sql, tier, [t.request], 'sweep_good');
  poison = await subjectOnTier(t.sql, tier, [t.request], 'sweep_poison');
  await t.sql(
    `CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'this row is refused'; END $$`,
  );
  await t.sql(
    `CREATE TRIGGER ${trigger} BEFORE INSERT ON usage_ledger FOR EACH ROW
     WHEN (NEW.subject = '${poison}') EXECUTE FUNCTION ${trigger}()`,
  );
});

afterAll(async () => {
  await t?.sql(`DROP TRIGGER IF EXISTS ${trigger} ON usage_ledger`);
  await t?.sql(`DROP FUNCTION IF EXISTS ${trigger}()`);
  await t?.close();
});

describe('an expiry sweep with one settlement Postgres refuses', () => {
  it('records every other one, keeps sweeping, and records the bad one once it is accepted', async () => {
    // Expiring together: one sweep, one batch.
    const bad = await check(poison);
    const fine = [await check(good), await check(good), await check(good), await check(good)];

    await eventually(async () => (await ledger(fine)).length === fine.length, SWEPT_WITHIN_MS, 200);
    expect((await ledger(fine)).every((row) => row.status === 'expired')).toBe(true);
    expect(await ledger([bad])).toEqual([]);

    // Later sweeps are not held up by it (it is retried each pass).
    const later = await check(good);
    await eventually(async () => (await ledger([later])).length === 1, SWEPT_WITHIN_MS, 200);
    expect(await ledger([bad])).toEqual([]);

    // Accepted again: re-appended from the store's pending settlements, exactly once.
    await t.sql(`DROP TRIGGER ${trigger} ON usage_ledger`);
    await eventually(async () => (await ledger([bad])).length === 1, SWEPT_WITHIN_MS, 200);
    expect(await ledger([bad])).toEqual([{ reservation_id: bad, status: 'expired' }]);
    const counts = await t.sql(
      'SELECT count(*)::int AS n FROM usage_ledger WHERE subject = ANY($1)',
      [[good, poison]],
    );
    expect(counts.rows[0].n).toBe(fine.length + 2);
  }, 90_000);
});
