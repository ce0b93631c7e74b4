import { expect, it } from 'vitest';
import {
  type HarnessFactory,
  allowed,
  request,
  subjectName,
  useHarness,
} from '../budget-store.harness.js';

/** SPEC §3: a shrunk limit clamps the bucket, and growing it again does not give the level back. */
export function limitEditCases(make: HarnessFactory): void {
  const h = useHarness(make);

  it('a shrink then a grow keeps the clamp, though no check ran while the limit was small', async () => {
    const { store } = h();
    const subject = subjectName();
    const first = allowed(
      await store.reserve(request(subject, { tokens: { capacity: 60_000, perMinute: 60_000 } })),
    );
    const t0 = first.reservation.reservedAtMs;
    h().advance(3_000);
    // 60,000 → 600 a second after that check, → 6,000 a second later; now a second after that.
    const tokens = {
      capacity: 6_000,
      perMinute: 6_000,
      changes: [
        { atMs: t0 + 1_000, capacity: 600, perMinute: 600 },
        { atMs: t0 + 2_000, capacity: 6_000, perMinute: 6_000 },
      ],
    };
    const next = allowed(await store.reserve(request(subject, { tokens })));
    // Clamped to 600, +10 while 600/min (capped at 600), +100 since the grow, −200 now.
    expect(next.state.tokens!.remaining).toBeGreaterThanOrEqual(500);
    expect(next.state.tokens!.remaining).toBeLessThan(510);
    // And it stays clamped: the next check starts from there, not from the old level.
    const after = allowed(await store.reserve(request(subject, { tokens })));
    expect(after.state.tokens!.remaining).toBeLessThan(310);
  });

  it('an edit made before the bucket was written changes nothing', async () => {
    const { store } = h();
    const subject = subjectName();
    const tokens = {
      capacity: 6_000,
      perMinute: 6_000,
      changes: [{ atMs: 0, capacity: 600, perMinute: 600 }],
    };
    allowed(await store.reserve(request(subject, { tokens })));
    const second = allowed(await store.reserve(request(subject, { tokens })));
    expect(second.state.tokens!.remaining).toBeGreaterThanOrEqual(5_600);
  });
}
