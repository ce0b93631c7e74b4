import { describe, expect, it } from 'vitest';
import type { Limits, Settlement } from '#budget';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  reserveId,
  subjectName,
  EVERY,
  UNLIMITED,
  useHarness,
} from '../budget-store.harness.js';

/** Expiry by policy, exactly once under concurrent sweepers; no overspend under load. */
export function expiryCases(make: HarnessFactory): void {
  const h = useHarness(make);

  describe('expiry', () => {
    it('charge: the lease ends, tokens stay used, the estimate becomes committed cost', async () => {
      const { store } = h();
      const subject = subjectName();
      const ok = allowed(await store.reserve(request(subject, EVERY, { ttlSeconds: 2 })));
      const live = await reserveId(store, request(subject, EVERY, { ttlSeconds: 600 }));
      expect(await store.expireDue('charge')).toEqual([]);

      h().advance(2_500);
      const [expired, ...rest] = await store.expireDue('charge');
      expect(rest).toEqual([]);
      expect(expired).toMatchObject({
        reservationId: ok.reservation.reservationId,
        status: 'expired',
        promptTokens: 100,
        completionTokens: 100,
        costMicros: 300,
        reservedAtMs: ok.reservation.reservedAtMs,
      });
      expect(await store.expireDue('charge')).toEqual([]);
      const view = await store.usage(subject, EVERY);
      expect(view.inFlight.map((r) => r.reservationId)).toEqual([live]);
      expect(view.state).toMatchObject({
        requests: { remaining: 8 },
        tokens: { remaining: 600 },
        concurrent: { remaining: 4 },
        dailyCost: { remainingMicros: 10_000 - 600 },
      });
      expect((await store.pendingLedger(0)).map((s) => s.reservationId)).toEqual([
        ok.reservation.reservationId,
      ]);
    });

    it('release: like a full refund, at zero cost', async () => {
      const { store } = h();
      const subject = subjectName();
      await reserveId(store, request(subject, EVERY, { ttlSeconds: 1 }));
      h().advance(1_500);
      const [expired] = await store.expireDue('release');
      expect(expired).toMatchObject({
        status: 'expired',
        promptTokens: 0,
        completionTokens: 0,
        costMicros: 0,
      });
      expect((await store.usage(subject, EVERY)).state).toMatchObject({
        requests: { remaining: 10 },
        tokens: { remaining: 1_000 },
        concurrent: { remaining: 5 },
        dailyCost: { remainingMicros: 10_000 },
      });
    });

    it('settles each reservation exactly once under concurrent sweepers, and honours max', async () => {
      const sweepers = await h().peers(2);
      const ids = new Set<string>();
      const subjects = Array.from({ length: 6 }, () => subjectName('sweep'));
      for (let i = 0; i < 30; i++) {
        ids.add(
          await reserveId(
            h().store,
            request(subjects[i % subjects.length]!, EVERY, { ttlSeconds: 1 }),
          ),
        );
      }
      h().advance(1_500);
      const firstBatch = await h().store.expireDue('charge', 4);
      expect(firstBatch).toHaveLength(4);
      const rounds = await Promise.all(
        [0, 1, 2, 3].map((i) => sweepers[i % 2]!.expireDue(i % 2 === 0 ? 'charge' : 'release')),
      );
      const all: Settlement[] = [...firstBatch, ...rounds.flat()];
      expect(all.map((s) => s.reservationId).sort()).toEqual([...ids].sort());
      expect(all.every((s) => s.status === 'expired')).toBe(true);
      for (const subject of subjects) {
        expect((await h().store.usage(subject, EVERY)).inFlight).toEqual([]);
      }
    });
  });

  describe('under load', () => {
    it('never reserves more than capacity plus what refills during the run', async () => {
      const stores = await h().peers(4);
      const subject = subjectName('hot');
      const limits: Limits = {
        ...UNLIMITED,
        requests: { capacity: 100, perMinute: 600 }, // 10 per second
        tokens: { capacity: 50_000, perMinute: 60_000 },
        concurrent: 1_000,
        dailyCostMicros: 1_000_000,
      };
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          stores[i % stores.length]!.reserve(request(subject, limits)),
        ),
      );
      const seconds = (Date.now() - started) / 1000;
      const granted = results.filter((r) => r.allowed);
      expect(granted.length).toBeGreaterThanOrEqual(100);
      expect(granted.length).toBeLessThanOrEqual(100 + Math.ceil(seconds * 10));
      for (const result of results) {
        if (!result.allowed) {
          expect(result.dimension).toBe('requests');
        }
      }
      const ids = new Set(granted.map((r) => (r.allowed ? r.reservation.reservationId : '')));
      expect(ids.size).toBe(granted.length);
      const view = await h().store.usage(subject, limits);
      expect(view.inFlight).toHaveLength(granted.length);
      expect(view.state.dailyCost!.remainingMicros).toBe(1_000_000 - 300 * granted.length);
    });

    it('never spends more than the daily budget, however many checks race', async () => {
      const stores = await h().peers(4);
      const subject = subjectName('rich');
      const limits = { dailyCostMicros: 30_000 }; // room for exactly 100 checks of 300 µ$
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          stores[i % stores.length]!.reserve(request(subject, limits)),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(100);
      const last = refused(await h().store.reserve(request(subject, limits)));
      expect(last.dimension).toBe('daily_cost');
    });
  });
}
