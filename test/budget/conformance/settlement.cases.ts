import { describe, expect, it } from 'vitest';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  reserveId,
  settled,
  subjectName,
  EVERY,
  useHarness,
  utcToday,
} from '../budget-store.harness.js';

/** Commit, refund, their replays and conflicts, the ledger handoff and the daily cache. */
export function settlementCases(make: HarnessFactory): void {
  const h = useHarness(make);

  describe('commit', () => {
    it('gives unused tokens back, ends the lease, and charges the real cost to the day', async () => {
      const { store } = h();
      const subject = subjectName();
      const ok = allowed(
        await store.reserve(request(subject, EVERY, { promptTokens: 100, completionTokens: 400 })),
      );
      expect(ok.state.tokens!.remaining).toBe(500);
      const done = settled(
        await store.commit(ok.reservation.reservationId, {
          promptTokens: 100,
          completionTokens: 100,
        }),
      );
      expect(done.replayed).toBe(false);
      expect(done.settlement).toMatchObject({
        reservationId: ok.reservation.reservationId,
        subject,
        tier: 'free',
        model: 'gpt-4o',
        promptTokens: 100,
        completionTokens: 100,
        costMicros: 300,
        status: 'committed',
        reservedAtMs: ok.reservation.reservedAtMs,
      });
      expect(done.settlement.settledAtMs).toBeGreaterThanOrEqual(ok.reservation.reservedAtMs);
      expect(done.state).toMatchObject({
        tokens: { remaining: 800 },
        requests: { remaining: 9 }, // a request was made: it stays counted
        concurrent: { remaining: 5 },
        dailyCost: { remainingMicros: 10_000 - 300 },
      });

      const again = settled(
        await store.commit(ok.reservation.reservationId, { promptTokens: 1, completionTokens: 1 }),
      );
      expect(again.replayed).toBe(true);
      expect(again.settlement).toEqual(done.settlement);
      expect(again.state.tokens!.remaining).toBe(800);
    });

    it('charges an overage, taking the bucket into debt', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { tokens: { capacity: 1_000, perMinute: 60 } };
      const id = await reserveId(store, request(subject, limits));
      const done = settled(await store.commit(id, { promptTokens: 100, completionTokens: 1_700 }));
      // 800 left, 1600 more used than reserved: 800 in debt.
      expect(done.state.tokens!.remaining).toBe(0);
      const no = refused(
        await store.reserve(request(subject, limits, { promptTokens: 10, completionTokens: 0 })),
      );
      expect(no.dimension).toBe('tokens');
      // 810 tokens to refill at 1 token/s.
      expect(no.retryAfterMs).toBeGreaterThan(805_000);
      expect(no.retryAfterMs).toBeLessThanOrEqual(810_000);
    });

    it('is accepted after the expiry time as long as no sweeper settled it', async () => {
      const { store } = h();
      const id = await reserveId(store, request(subjectName(), EVERY, { ttlSeconds: 1 }));
      h().advance(5_000);
      const done = settled(await store.commit(id, { promptTokens: 10, completionTokens: 10 }));
      expect(done.settlement.status).toBe('committed');
      expect(await store.expireDue('charge')).toEqual([]);
    });
  });

  describe('cached input', () => {
    // 4 µ$ per uncached prompt token, 1.5 per cached one, 10 per completion token.
    const pricing = {
      inputPicosPerToken: 4_000_000,
      cachedInputPicosPerToken: 1_500_000,
      outputPicosPerToken: 10_000_000,
    };

    it('prices cached prompt tokens at the cached price of the reservation, rounding once', async () => {
      const { store } = h();
      const subject = subjectName();
      const id = await reserveId(store, request(subject, EVERY, { pricing }));
      // 100 prompt of which 61 cached: 39×4 + 61×1.5 + 10×10 = 347.5 → 348 µ$.
      const done = settled(
        await store.commit(id, { promptTokens: 100, completionTokens: 10, cachedTokens: 61 }),
      );
      expect(done.settlement).toMatchObject({
        promptTokens: 100,
        cachedTokens: 61,
        completionTokens: 10,
        costMicros: 348,
      });
      expect(done.state.dailyCost!.remainingMicros).toBe(10_000 - 348);
      // Cached tokens are prompt tokens for the token bucket: 1000 − 110 used.
      expect(done.state.tokens!.remaining).toBe(890);
      const again = settled(await store.commit(id, { promptTokens: 100, completionTokens: 10 }));
      expect(again.replayed).toBe(true);
      expect(again.settlement).toEqual(done.settlement);
      const [pending] = await store.pendingLedger(0);
      expect(pending).toMatchObject({ reservationId: id, cachedTokens: 61, costMicros: 348 });
    });

    it('prices the cached tokens of a partial refund too, and the input price without a cached one', async () => {
      const { store } = h();
      const subject = subjectName();
      const refunded = await reserveId(store, request(subject, EVERY, { pricing }));
      const partial = settled(
        await store.refund(refunded, { promptTokens: 10, completionTokens: 1, cachedTokens: 10 }),
      );
      expect(partial.settlement).toMatchObject({ cachedTokens: 10, costMicros: 25 });
      const plain = await reserveId(store, request(subject, EVERY));
      // PRICING has no cached price: 100 × 1 + 10 × 2 whatever is cached.
      const done = settled(
        await store.commit(plain, { promptTokens: 100, completionTokens: 10, cachedTokens: 50 }),
      );
      expect(done.settlement).toMatchObject({ cachedTokens: 50, costMicros: 120 });
    });

    it('charges an expired reservation its estimate, with no cached tokens', async () => {
      const { store } = h();
      const id = await reserveId(
        store,
        request(subjectName(), EVERY, {
          pricing,
          promptTokens: 10,
          completionTokens: 10,
          ttlSeconds: 1,
        }),
      );
      h().advance(1_500);
      const [expired] = await store.expireDue('charge');
      expect(expired).toMatchObject({ reservationId: id, cachedTokens: 0, costMicros: 140 });
    });
  });

  describe('refund', () => {
    it('without usage releases everything, request included, at zero cost', async () => {
      const { store } = h();
      const subject = subjectName();
      const id = await reserveId(store, request(subject, EVERY));
      const done = settled(await store.refund(id, null));
      expect(done.settlement).toMatchObject({
        status: 'refunded',
        promptTokens: 0,
        completionTokens: 0,
        costMicros: 0,
      });
      expect(done.state).toMatchObject({
        requests: { remaining: 10 },
        tokens: { remaining: 1_000 },
        concurrent: { remaining: 5 },
        dailyCost: { remainingMicros: 10_000 },
      });
      const again = settled(await store.refund(id, null));
      expect(again.replayed).toBe(true);
      expect(again.settlement).toEqual(done.settlement);
    });

    it('with usage charges that usage and gives the rest back', async () => {
      const { store } = h();
      const subject = subjectName();
      const id = await reserveId(
        store,
        request(subject, EVERY, { promptTokens: 100, completionTokens: 400 }),
      );
      const done = settled(await store.refund(id, { promptTokens: 100, completionTokens: 40 }));
      expect(done.settlement).toMatchObject({ status: 'refunded', costMicros: 180 });
      expect(done.state).toMatchObject({
        requests: { remaining: 9 },
        tokens: { remaining: 860 },
        dailyCost: { remainingMicros: 10_000 - 180 },
      });
    });
  });

  describe('conflicts and unknown ids', () => {
    it('answers conflict with the settled status, and not_found for ids never issued', async () => {
      const { store } = h();
      const subject = subjectName();
      const committed = await reserveId(store, request(subject, EVERY));
      settled(await store.commit(committed, { promptTokens: 1, completionTokens: 1 }));
      expect(await store.refund(committed, null)).toEqual({
        ok: false,
        error: 'conflict',
        status: 'committed',
      });

      const refunded = await reserveId(store, request(subject, EVERY));
      settled(await store.refund(refunded, null));
      expect(await store.commit(refunded, { promptTokens: 1, completionTokens: 1 })).toEqual({
        ok: false,
        error: 'conflict',
        status: 'refunded',
      });
      expect(await store.refund(refunded, { promptTokens: 1, completionTokens: 1 })).toMatchObject({
        ok: true,
        replayed: true,
      });

      const expired = await reserveId(store, request(subject, EVERY, { ttlSeconds: 1 }));
      h().advance(2_000);
      expect((await store.expireDue('charge')).map((s) => s.reservationId)).toEqual([expired]);
      expect(await store.commit(expired, { promptTokens: 1, completionTokens: 1 })).toEqual({
        ok: false,
        error: 'conflict',
        status: 'expired',
      });

      const unknownOfKnownSubject = `${committed.slice(0, committed.lastIndexOf('.'))}.AAAAAAAAAAAAAAAAAAAAAA`;
      for (const id of [
        'nope',
        '',
        '.',
        unknownOfKnownSubject,
        `${committed}x`,
        `==.${committed}`,
      ]) {
        expect(await store.commit(id, { promptTokens: 1, completionTokens: 1 })).toEqual({
          ok: false,
          error: 'not_found',
        });
        expect(await store.refund(id, null)).toEqual({ ok: false, error: 'not_found' });
        expect(await store.find(id)).toBeNull();
      }
    });
  });

  describe('find and usage', () => {
    it('finds reservations and lists the in-flight ones read-only', async () => {
      const { store } = h();
      const subject = subjectName();
      const a = allowed(await store.reserve(request(subject, EVERY, { ttlSeconds: 60 })));
      const b = allowed(
        await store.reserve(request(subject, EVERY, { ttlSeconds: 30, model: 'o3' })),
      );
      expect(await store.find(a.reservation.reservationId)).toEqual(a.reservation);

      const view = await store.usage(subject, EVERY);
      expect(view.inFlight).toEqual([b.reservation, a.reservation]);
      expect(view.state).toMatchObject({
        requests: { limit: 10, remaining: 8 },
        tokens: { limit: 1_000, remaining: 600 },
        concurrent: { limit: 5, remaining: 3 },
        dailyCost: { limitMicros: 10_000, remainingMicros: 9_400 },
      });
      expect(view.state.modelRequests).toBeUndefined();
      // Looking changed nothing.
      expect((await store.usage(subject, EVERY)).state.tokens!.remaining).toBe(600);

      await store.commit(b.reservation.reservationId, { promptTokens: 1, completionTokens: 1 });
      expect((await store.usage(subject, EVERY)).inFlight).toEqual([a.reservation]);
      expect(await store.find(b.reservation.reservationId)).toEqual(b.reservation);

      const nobody = await store.usage(subjectName(), EVERY);
      expect(nobody.inFlight).toEqual([]);
      expect(nobody.state.tokens).toEqual({ limit: 1_000, remaining: 1_000, resetMs: 0 });
    });
  });

  describe('ledger handoff', () => {
    it('keeps every settlement pending until the ledger confirms it', async () => {
      const { store } = h();
      const subject = subjectName();
      const one = settled(
        await store.commit(await reserveId(store, request(subject, EVERY)), {
          promptTokens: 5,
          completionTokens: 5,
        }),
      );
      const two = settled(
        await store.refund(await reserveId(store, request(subject, EVERY)), null),
      );
      expect(await store.pendingLedger(60_000)).toEqual([]);
      const pending = await store.pendingLedger(0);
      expect(pending.map((s) => s.reservationId).sort()).toEqual(
        [one.settlement.reservationId, two.settlement.reservationId].sort(),
      );
      expect(pending).toContainEqual(one.settlement);

      await store.confirmLedgered([one.settlement]);
      h().advance(61_000);
      expect(await store.pendingLedger(60_000)).toEqual([two.settlement]);
      await store.confirmLedgered([two.settlement]);
      expect(await store.pendingLedger(0)).toEqual([]);
      // Confirmed settlements still answer replays.
      expect(settled(await store.refund(two.settlement.reservationId, null)).replayed).toBe(true);
    });
  });

  describe('daily cost is a cache of the ledger', () => {
    it('is seeded again from the ledger after the live counters are lost', async () => {
      const { source } = h();
      const subject = subjectName();
      const limits = { dailyCostMicros: 1_000 };
      const id = await reserveId(h().store, request(subject, limits));
      const done = settled(
        await h().store.commit(id, { promptTokens: 200, completionTokens: 200 }),
      );
      expect(done.state.dailyCost!.remainingMicros).toBe(400);
      // What the ledger writer would have made durable.
      source.set(subject, utcToday(), 600);

      await h().restart();
      const no = refused(
        await h().store.reserve(
          request(subject, limits, { promptTokens: 500, completionTokens: 0 }),
        ),
      );
      expect(no.dimension).toBe('daily_cost');
      expect(no.state.dailyCost!.remainingMicros).toBe(400);
      expect(source.asked.filter((asked) => asked === `${subject}|${utcToday()}`)).toHaveLength(2);
    });

    it('is never created by a commit alone: the next check still reads the ledger', async () => {
      const { store, source } = h();
      const subject = subjectName();
      // No daily limit yet: nothing seeds the counter, and the commit must not start one.
      const id = await reserveId(store, request(subject, {}));
      settled(await store.commit(id, { promptTokens: 100, completionTokens: 100 }));
      source.set(subject, utcToday(), 700);
      const ok = allowed(
        await store.reserve(request(subject, { dailyCostMicros: 1_000 }, { completionTokens: 0 })),
      );
      expect(ok.state.dailyCost!.remainingMicros).toBe(1_000 - 700 - 100);
    });
  });
}
