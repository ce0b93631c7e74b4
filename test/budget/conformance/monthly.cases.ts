import { describe, expect, it } from 'vitest';
import { isoMonth, epochMonth, nextUtcMonthStart } from '#kernel';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  reserveId,
  settled,
  subjectName,
  useHarness,
  utcToday,
} from '../budget-store.harness.js';

/** SPEC §3 monthly_cost: daily_cost's twin over the UTC calendar month. */
export function monthlyCases(make: HarnessFactory): void {
  const h = useHarness(make);
  const thisMonth = (): string => utcToday().slice(0, 7);

  it('counts committed and in-flight cost against the month, seeded from the ledger', async () => {
    const { store, source } = h();
    const subject = subjectName();
    source.set(subject, thisMonth(), 9_000);
    const limits = { monthlyCostMicros: 10_000 };
    const ok = allowed(
      await store.reserve(request(subject, limits, { promptTokens: 100, completionTokens: 100 })),
    );
    // 9,000 committed earlier this month, 300 in flight.
    expect(ok.state.monthlyCost).toMatchObject({ limitMicros: 10_000, remainingMicros: 700 });
    expect(ok.state.monthlyCost!.resetAtMs).toBe(nextUtcMonthStart(ok.reservation.reservedAtMs));
    expect(ok.state.dailyCost).toBeUndefined();
    expect(source.asked).toContain(`${subject}|${thisMonth()}`);

    const no = refused(
      await store.reserve(request(subject, limits, { promptTokens: 500, completionTokens: 300 })),
    );
    expect(no).toMatchObject({ reason: 'limited', dimension: 'monthly_cost' });
    // Waiting helps only once the month is over.
    const untilNextMonth = nextUtcMonthStart(Date.now()) - Date.now();
    expect(Math.abs(no.retryAfterMs! - untilNextMonth)).toBeLessThan(5_000);

    const done = settled(
      await store.commit(ok.reservation.reservationId, { promptTokens: 100, completionTokens: 0 }),
    );
    expect(done.state.monthlyCost!.remainingMicros).toBe(900);
    // The month counter moved by the real cost: 800 more fits, 901 does not.
    allowed(
      await store.reserve(request(subject, limits, { promptTokens: 900, completionTokens: 0 })),
    );
  });

  it('refuses an estimate larger than the monthly limit as exceeds_capacity', async () => {
    const { store } = h();
    const no = refused(
      await store.reserve(
        request(subjectName(), { monthlyCostMicros: 250 }, { completionTokens: 100 }),
      ),
    );
    expect(no).toMatchObject({ reason: 'exceeds_capacity', dimension: 'monthly_cost' });
    expect(no.retryAfterMs).toBeUndefined();
  });

  it('grants the completion the tighter of the day and the month allows', async () => {
    const { store } = h();
    const subject = subjectName();
    const ok = allowed(
      await store.reserve(
        request(
          subject,
          { dailyCostMicros: 1_000, monthlyCostMicros: 500 },
          { promptTokens: 100, completionTokens: 1_000, minCompletionTokens: 10 },
        ),
      ),
    );
    // 100 prompt µ$ + 2 µ$ per completion token ≤ 500.
    expect(ok.reservation.completionTokens).toBe(200);
    expect(ok.state.monthlyCost!.remainingMicros).toBe(0);
    expect(ok.state.dailyCost!.remainingMicros).toBe(500);
  });

  it('is rebuilt from the ledger after the live counters are lost', async () => {
    const { source } = h();
    const subject = subjectName();
    const limits = { monthlyCostMicros: 1_000 };
    const id = await reserveId(h().store, request(subject, limits));
    settled(await h().store.commit(id, { promptTokens: 200, completionTokens: 200 }));
    source.set(subject, thisMonth(), 600);
    await h().restart();
    const no = refused(
      await h().store.reserve(request(subject, limits, { promptTokens: 500, completionTokens: 0 })),
    );
    expect(no.dimension).toBe('monthly_cost');
    expect(no.state.monthlyCost!.remainingMicros).toBe(400);
  });

  describe('month boundary', () => {
    it('resets at 00:00 UTC on the 1st, not before', async () => {
      const { store, source } = h();
      const subject = subjectName();
      const limits = { monthlyCostMicros: 1_000 };
      // Move the clock to 3 s before the next month starts.
      const boundary = nextUtcMonthStart(Date.now());
      h().advance(boundary - 3_000 - Date.now());
      const before = isoMonth(epochMonth(boundary - 1));
      source.set(subject, before, 900);
      const no = refused(
        await store.reserve(request(subject, limits, { promptTokens: 200, completionTokens: 0 })),
      );
      expect(no.dimension).toBe('monthly_cost');
      expect(no.retryAfterMs).toBeGreaterThan(0);
      expect(no.retryAfterMs).toBeLessThanOrEqual(3_000);
      expect(no.state.monthlyCost!.resetAtMs).toBe(boundary);

      // Still the old month 1.5 s before the boundary.
      h().advance(1_500);
      refused(
        await store.reserve(request(subject, limits, { promptTokens: 200, completionTokens: 0 })),
      );

      // Past 00:00 UTC on the 1st: the new month starts from the ledger's (empty) figure.
      h().advance(2_000);
      const ok = allowed(
        await store.reserve(request(subject, limits, { promptTokens: 200, completionTokens: 0 })),
      );
      expect(ok.reservation.reservedAtMs).toBeGreaterThanOrEqual(boundary);
      expect(ok.state.monthlyCost!.remainingMicros).toBe(800);
      expect(ok.state.monthlyCost!.resetAtMs).toBe(nextUtcMonthStart(boundary));
      expect(source.asked).toContain(`${subject}|${isoMonth(epochMonth(boundary))}`);
    });

    it('a reservation held across the boundary is charged to the month it is committed in', async () => {
      const { store, source } = h();
      const subject = subjectName();
      const limits = { monthlyCostMicros: 1_000 };
      const boundary = nextUtcMonthStart(Date.now());
      h().advance(boundary - 2_000 - Date.now());
      const id = await reserveId(
        store,
        request(subject, limits, { promptTokens: 300, completionTokens: 0 }),
      );
      h().advance(3_000);
      const done = settled(await store.commit(id, { promptTokens: 300, completionTokens: 0 }));
      expect(done.settlement.settledAtMs).toBeGreaterThanOrEqual(boundary);
      // The new month's counter was never seeded by this subject: the ledger (which now holds
      // the row) is asked, so nothing is counted twice or lost.
      source.set(subject, isoMonth(epochMonth(boundary)), 300);
      const ok = allowed(
        await store.reserve(request(subject, limits, { promptTokens: 700, completionTokens: 0 })),
      );
      expect(ok.state.monthlyCost!.remainingMicros).toBe(0);
    });
  });
}
