import { expect, it } from 'vitest';
import {
  type HarnessFactory,
  EVERY,
  request,
  reserveId,
  settled,
  subjectName,
  useHarness,
} from '../budget-store.harness.js';

/**
 * usage_ledger.caller (SPEC §5): the reservation keeps the name of the caller whose key made the
 * check, and every way it is settled hands that name to the ledger.
 */
export function callerCases(make: HarnessFactory): void {
  const h = useHarness(make);

  it('hands the checking caller to the ledger on commit, refund, expiry and re-append', async () => {
    const { store } = h();
    const subject = subjectName();
    const as = (caller: string, ttlSeconds = 600) =>
      reserveId(store, request(subject, EVERY, { caller, ttlSeconds }));
    const committed = await as('gateway-a');
    const refunded = await as('gateway-b');
    const expiring = await as('gateway-c', 1);
    const usage = { promptTokens: 10, completionTokens: 10 };

    expect(settled(await store.commit(committed, usage)).settlement.caller).toBe('gateway-a');
    expect(settled(await store.refund(refunded, null)).settlement.caller).toBe('gateway-b');
    // A replay answers the same caller.
    expect(settled(await store.commit(committed, usage)).settlement.caller).toBe('gateway-a');
    h().advance(1_500);
    const expired = await store.expireDue('charge');
    expect(expired.map((s) => [s.reservationId, s.caller])).toEqual([[expiring, 'gateway-c']]);

    // What the sweeper re-appends when the ledger never confirmed it.
    const pending = await store.pendingLedger(0);
    expect(new Map(pending.map((s) => [s.reservationId, s.caller]))).toEqual(
      new Map([
        [committed, 'gateway-a'],
        [refunded, 'gateway-b'],
        [expiring, 'gateway-c'],
      ]),
    );
  });

  it('leaves the caller unknown when the check named none', async () => {
    const { store } = h();
    const id = await reserveId(store, request(subjectName(), EVERY));
    const done = settled(await store.commit(id, { promptTokens: 1, completionTokens: 1 }));
    expect(done.settlement.caller).toBeUndefined();
  });
}
