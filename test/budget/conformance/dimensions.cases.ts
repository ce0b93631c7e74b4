import { describe, expect, it } from 'vitest';
import type { LimitsState } from '#budget';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  subjectName,
  useHarness,
} from '../budget-store.harness.js';

/** Each dimension alone, then together: fits, refusals, retry times, state (SPEC §3). */
export function dimensionCases(make: HarnessFactory): void {
  const h = useHarness(make);

  describe('requests bucket', () => {
    it('allows its capacity, then refuses with the time until one request refills', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { requests: { capacity: 3, perMinute: 1 } };
      const first = allowed(await store.reserve(request(subject, limits)));
      expect(first.state.requests).toMatchObject({ limit: 3, remaining: 2 });
      allowed(await store.reserve(request(subject, limits)));
      allowed(await store.reserve(request(subject, limits)));

      const no = refused(await store.reserve(request(subject, limits)));
      expect(no).toMatchObject({ reason: 'limited', dimension: 'requests' });
      expect(no.retryAfterMs).toBeGreaterThan(55_000);
      expect(no.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(no.state.requests!.remaining).toBe(0);
      expect(no.state.requests!.resetMs).toBeGreaterThan(175_000);
      expect(no.state.requests!.resetMs).toBeLessThanOrEqual(180_000);

      h().advance(60_000);
      allowed(await store.reserve(request(subject, limits)));
    });
  });

  describe('tokens bucket', () => {
    it('charges prompt + completion and refills continuously over moved time', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { tokens: { capacity: 1000, perMinute: 60 } }; // 1 token per second
      const first = allowed(
        await store.reserve(request(subject, limits, { promptTokens: 300, completionTokens: 200 })),
      );
      expect(first.state.tokens).toMatchObject({ limit: 1000, remaining: 500 });

      const no = refused(
        await store.reserve(request(subject, limits, { promptTokens: 400, completionTokens: 200 })),
      );
      expect(no).toMatchObject({ reason: 'limited', dimension: 'tokens' });
      // 100 tokens short at 1 token/s.
      expect(no.retryAfterMs).toBeGreaterThan(98_000);
      expect(no.retryAfterMs).toBeLessThanOrEqual(100_000);
      expect(no.state.tokens!.remaining).toBe(500);

      h().advance(30_000);
      const later = allowed(
        await store.reserve(request(subject, limits, { promptTokens: 10, completionTokens: 0 })),
      );
      // 500 + 30 refilled − 10.
      expect(later.state.tokens!.remaining).toBeGreaterThanOrEqual(520);
      expect(later.state.tokens!.remaining).toBeLessThanOrEqual(521);
      expect(later.state.tokens!.resetMs).toBeGreaterThan(478_000);
      expect(later.state.tokens!.resetMs).toBeLessThanOrEqual(480_000);

      h().advance(100_000);
      allowed(
        await store.reserve(request(subject, limits, { promptTokens: 400, completionTokens: 200 })),
      );
    });

    it('keeps the level when the capacity grows, and clamps it when the capacity shrinks', async () => {
      const { store } = h();
      const subject = subjectName();
      const small = { tokens: { capacity: 100, perMinute: 1 } };
      allowed(
        await store.reserve(request(subject, small, { promptTokens: 50, completionTokens: 10 })),
      );
      // Level 40; grown to 1000 the bucket keeps 40 and refills at the new rate.
      const grown = allowed(
        await store.reserve(
          request(
            subject,
            { tokens: { capacity: 1000, perMinute: 1 } },
            { promptTokens: 10, completionTokens: 0 },
          ),
        ),
      );
      expect(grown.state.tokens).toMatchObject({ limit: 1000, remaining: 30 });

      const other = subjectName();
      allowed(
        await store.reserve(
          request(other, { tokens: { capacity: 1000, perMinute: 1 } }, { promptTokens: 100 }),
        ),
      );
      // Level 800; shrunk to 300 it holds 300.
      const shrunk = allowed(
        await store.reserve(
          request(
            other,
            { tokens: { capacity: 300, perMinute: 1 } },
            { promptTokens: 50, completionTokens: 0 },
          ),
        ),
      );
      expect(shrunk.state.tokens).toMatchObject({ limit: 300, remaining: 250 });
    });
  });

  describe('limits edited between checks (SPEC §3)', () => {
    it('a shrink then a grow keeps the clamped level: 60,000 → 600 → 6,000 tokens/min', async () => {
      const { store } = h();
      const subject = subjectName();
      const tpm = (n: number) => ({ tokens: { capacity: n, perMinute: n } });
      allowed(await store.reserve(request(subject, tpm(60_000), { promptTokens: 100 })));
      // Shrunk: a check (refused, it is larger than what is left) sees the clamp.
      const small = refused(
        await store.reserve(request(subject, tpm(600), { promptTokens: 700, completionTokens: 0 })),
      );
      expect(small.state.tokens!.remaining).toBe(600);
      // Grown again: the level stays ≤ 600 plus the refill of the moment, never back to 6,000.
      h().advance(1_000);
      const grown = allowed(
        await store.reserve(request(subject, tpm(6_000), { promptTokens: 1, completionTokens: 0 })),
      );
      // (The second until the grow refilled at 600/min, into a bucket of capacity 600.)
      expect(grown.state.tokens!.remaining).toBe(599);
      expect(grown.state.tokens!.limit).toBe(6_000);
    });

    it('a raised rate refills at the new rate from the first check that sees it', async () => {
      const { store } = h();
      const subject = subjectName();
      const rpm = (n: number) => ({ requests: { capacity: n, perMinute: n } });
      allowed(await store.reserve(request(subject, rpm(2))));
      allowed(await store.reserve(request(subject, rpm(2))));
      refused(await store.reserve(request(subject, rpm(2))));
      // Raised to 100/min: refused only until the first check under it, then 100/min from there.
      refused(await store.reserve(request(subject, rpm(100))));
      h().advance(700); // 100/min is one request per 600 ms
      const back = allowed(await store.reserve(request(subject, rpm(100))));
      expect(back.state.requests!.limit).toBe(100);
      h().advance(1_200);
      allowed(await store.reserve(request(subject, rpm(100))));
      allowed(await store.reserve(request(subject, rpm(100))));
    });
  });

  describe('concurrent leases', () => {
    it('refuses beyond the limit until a lease ends, by settlement or by expiry', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = { concurrent: 2 };
      const a = allowed(await store.reserve(request(subject, limits, { ttlSeconds: 30 })));
      expect(a.state.concurrent).toEqual({ limit: 2, remaining: 1 });
      allowed(await store.reserve(request(subject, limits, { ttlSeconds: 60 })));

      const no = refused(await store.reserve(request(subject, limits)));
      expect(no).toMatchObject({ reason: 'limited', dimension: 'concurrent' });
      expect(no.state.concurrent).toEqual({ limit: 2, remaining: 0 });
      // A lease usually ends at a commit, seconds away: retry in 1 s, not at the lease's expiry.
      expect(no.retryAfterMs).toBe(1_000);

      await store.commit(a.reservation.reservationId, { promptTokens: 1, completionTokens: 1 });
      allowed(await store.reserve(request(subject, limits, { ttlSeconds: 30 })));
      refused(await store.reserve(request(subject, limits)));

      // An expired lease no longer counts, even before a sweeper settles it.
      h().advance(31_000);
      allowed(await store.reserve(request(subject, limits)));
    });
  });

  describe('daily cost', () => {
    it('counts the ledger of the day, in-flight cost and this estimate; retry at UTC midnight', async () => {
      const { store, source } = h();
      const subject = subjectName();
      const today = new Date().toISOString().slice(0, 10);
      source.set(subject, today, 200);
      const limits = { dailyCostMicros: 1_000 };
      // 100 prompt × 1 µ$ + 100 completion × 2 µ$ = 300 µ$.
      const a = allowed(await store.reserve(request(subject, limits)));
      expect(a.reservation.costMicros).toBe(300);
      expect(a.state.dailyCost!.limitMicros).toBe(1_000);
      expect(a.state.dailyCost!.remainingMicros).toBe(500);
      const midnight = (Math.floor(a.reservation.reservedAtMs / 86_400_000) + 1) * 86_400_000;
      expect(a.state.dailyCost!.resetAtMs).toBe(midnight);
      allowed(await store.reserve(request(subject, limits)));

      const no = refused(await store.reserve(request(subject, limits)));
      expect(no).toMatchObject({ reason: 'limited', dimension: 'daily_cost' });
      expect(no.state.dailyCost!.remainingMicros).toBe(200);
      const retry = no.retryAfterMs!;
      expect(Math.abs(Date.now() + retry - midnight)).toBeLessThan(5_000);

      // Committing less than reserved frees the difference for today.
      await store.commit(a.reservation.reservationId, { promptTokens: 100, completionTokens: 0 });
      const after = allowed(await store.reserve(request(subject, limits)));
      // 1000 − 200 (ledger) − 100 (committed) − 300 − 300 (in flight).
      expect(after.state.dailyCost!.remainingMicros).toBe(100);

      // The next UTC day starts from the ledger again (nothing there yet).
      h().advance(retry + 1_000);
      const tomorrow = allowed(await store.reserve(request(subject, limits)));
      expect(tomorrow.state.dailyCost!.remainingMicros).toBe(1_000 - 600 - 300);
    });
  });

  describe('model buckets', () => {
    it('limit each (subject, model) on top of the subject-wide buckets', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = {
        requests: { capacity: 10, perMinute: 1 },
        modelRequests: { capacity: 1, perMinute: 1 },
        modelTokens: { capacity: 500, perMinute: 1 },
      };
      const a = allowed(await store.reserve(request(subject, limits)));
      expect(a.state.modelRequests).toMatchObject({ limit: 1, remaining: 0 });
      expect(a.state.modelTokens).toMatchObject({ limit: 500, remaining: 300 });
      const no = refused(await store.reserve(request(subject, limits)));
      expect(no.dimension).toBe('model_requests');
      // The same subject on another model has its own model buckets.
      const other = allowed(
        await store.reserve(request(subject, limits, { model: 'gpt-4o-mini' })),
      );
      expect(other.state.modelRequests!.remaining).toBe(0);
      expect(other.state.requests!.remaining).toBe(8);
      const tooBig = refused(
        await store.reserve(
          request(subject, limits, { model: 'o3', promptTokens: 400, completionTokens: 200 }),
        ),
      );
      expect(tooBig).toMatchObject({ reason: 'exceeds_capacity', dimension: 'model_tokens' });
    });
  });

  describe('all dimensions together', () => {
    const every = {
      requests: { capacity: 10, perMinute: 1 },
      tokens: { capacity: 1_000, perMinute: 1 },
      concurrent: 3,
      dailyCostMicros: 100_000,
      modelRequests: { capacity: 5, perMinute: 1 },
      modelTokens: { capacity: 2_000, perMinute: 1 },
    };

    it('reports every limited dimension and charges each one', async () => {
      const { store } = h();
      const ok = allowed(await store.reserve(request(subjectName(), every)));
      expect(ok.state).toMatchObject({
        requests: { limit: 10, remaining: 9 },
        tokens: { limit: 1_000, remaining: 800 },
        concurrent: { limit: 3, remaining: 2 },
        dailyCost: { limitMicros: 100_000, remainingMicros: 99_700 },
        modelRequests: { limit: 5, remaining: 4 },
        modelTokens: { limit: 2_000, remaining: 1_800 },
      });
    });

    it('changes nothing anywhere when one dimension refuses', async () => {
      const { store } = h();
      const subject = subjectName();
      const before = allowed(await store.reserve(request(subject, every)));
      // Tokens refuse (900 > 800 left): no request, lease, cost or model charge may stick.
      const no = refused(
        await store.reserve(request(subject, every, { promptTokens: 500, completionTokens: 400 })),
      );
      expect(no.dimension).toBe('tokens');
      expect(remaining(no.state)).toEqual(remaining(before.state));
      const next = allowed(await store.reserve(request(subject, every)));
      expect(next.state).toMatchObject({
        requests: { remaining: 8 },
        tokens: { remaining: 600 },
        concurrent: { remaining: 1 },
        dailyCost: { remainingMicros: 99_400 },
        modelRequests: { remaining: 3 },
      });

      // Concurrency refuses next: the tokens and requests it did not take are still there.
      allowed(await store.reserve(request(subject, every)));
      const full = refused(await store.reserve(request(subject, every)));
      expect(full.dimension).toBe('concurrent');
      expect(full.state.tokens!.remaining).toBe(400);
      expect(full.state.requests!.remaining).toBe(7);
      expect((await store.usage(subject, every)).state.tokens!.remaining).toBe(400);
    });

    it('names the refusing dimension furthest from recovering', async () => {
      const { store } = h();
      const subject = subjectName();
      const limits = {
        requests: { capacity: 1, perMinute: 60 }, // back in 1 s
        tokens: { capacity: 300, perMinute: 6 },
      };
      allowed(await store.reserve(request(subject, limits)));
      const no = refused(await store.reserve(request(subject, limits)));
      // 100 tokens short at 0.1 token/s.
      expect(no.dimension).toBe('tokens');
      expect(no.retryAfterMs).toBeGreaterThan(990_000);

      const daily = subjectName();
      const both = { tokens: { capacity: 300, perMinute: 60_000 }, dailyCostMicros: 400 };
      allowed(await store.reserve(request(daily, both)));
      const night = refused(await store.reserve(request(daily, both)));
      // Tokens are back within a second; the money only at midnight.
      expect(night.dimension).toBe('daily_cost');
    });
  });
}

/** What a caller sees left in each dimension (reset times move with the real clock). */
function remaining(state: LimitsState): Record<string, number> {
  return Object.fromEntries(
    Object.entries(state).map(([dimension, value]) => [
      dimension,
      'remainingMicros' in value ? value.remainingMicros : value.remaining,
    ]),
  );
}
