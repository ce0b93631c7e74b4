import { IdempotencyKeyReusedError } from '#kernel';
import { IDEMPOTENCY_RETENTION_MS } from '#budget';
import { expect, it } from 'vitest';
import {
  type HarnessFactory,
  allowed,
  refused,
  request,
  settled,
  subjectName,
  useHarness,
} from '../budget-store.harness.js';

/** A retried check with its idempotency key (SPEC §4): the same answer for a day, never twice. */
export function idempotencyCases(make: HarnessFactory): void {
  const h = useHarness(make);
  const limits = { requests: { capacity: 10, perMinute: 1 } };
  const keyed = (fingerprint = 'body-1') => ({
    idempotencyKey: 'k-1',
    idempotencyFingerprint: fingerprint,
  });

  it('returns the same reservation for the same key and subject, and nothing more', async () => {
    const { store } = h();
    const subject = subjectName();
    const first = allowed(await store.reserve(request(subject, limits, keyed())));
    expect(first.replayed).toBe(false);
    const again = allowed(await store.reserve(request(subject, limits, keyed())));
    expect(again.replayed).toBe(true);
    expect(again.reservation).toEqual(first.reservation);
    expect(again.state.requests!.remaining).toBe(9);

    // Another subject with the same key is another reservation.
    const other = allowed(await store.reserve(request(subjectName(), limits, keyed())));
    expect(other.replayed).toBe(false);
    expect(other.reservation.reservationId).not.toBe(first.reservation.reservationId);
  });

  it('answers the settled reservation for a day, then forgets the key', async () => {
    const { store } = h();
    const subject = subjectName();
    const first = allowed(await store.reserve(request(subject, limits, keyed())));
    settled(
      await store.commit(first.reservation.reservationId, {
        promptTokens: 100,
        completionTokens: 100,
      }),
    );
    // Committed, then past the record's own retention: the key still answers it.
    h().advance(3 * 3_600_000);
    const replay = allowed(await store.reserve(request(subject, limits, keyed())));
    expect(replay.replayed).toBe(true);
    expect(replay.reservation).toEqual(first.reservation);
    // No new request was taken: 9 left at the commit, refilled 1 a minute since (capped at 10).
    expect(replay.state.requests!.remaining).toBe(10);

    h().advance(IDEMPOTENCY_RETENTION_MS);
    const fresh = allowed(await store.reserve(request(subject, limits, keyed())));
    expect(fresh.replayed).toBe(false);
    expect(fresh.reservation.reservationId).not.toBe(first.reservation.reservationId);
  });

  it('answers an expired reservation too', async () => {
    const { store } = h();
    const subject = subjectName();
    const first = allowed(
      await store.reserve(request(subject, limits, { ...keyed(), ttlSeconds: 1 })),
    );
    h().advance(1_500);
    await store.expireDue('release');
    const replay = allowed(
      await store.reserve(request(subject, limits, { ...keyed(), ttlSeconds: 1 })),
    );
    expect(replay.replayed).toBe(true);
    expect(replay.reservation.reservationId).toBe(first.reservation.reservationId);
  });

  it('refuses the same key with another body and reserves nothing', async () => {
    const { store } = h();
    const subject = subjectName();
    allowed(await store.reserve(request(subject, limits, keyed('body-1'))));
    await expect(store.reserve(request(subject, limits, keyed('body-2')))).rejects.toBeInstanceOf(
      IdempotencyKeyReusedError,
    );
    const after = allowed(await store.reserve(request(subject, limits)));
    expect(after.state.requests!.remaining).toBe(8);
  });

  it('a refused check leaves its key free for the retry', async () => {
    const { store } = h();
    const subject = subjectName();
    const one = { requests: { capacity: 1, perMinute: 1 } };
    allowed(await store.reserve(request(subject, one)));
    refused(await store.reserve(request(subject, one, keyed())));
    h().advance(60_000);
    const retry = allowed(await store.reserve(request(subject, one, keyed())));
    expect(retry.replayed).toBe(false);
  });

  it('a scope that refused forgets the key its own level recorded', async () => {
    const { store } = h();
    const team = subjectName('team');
    const subject = subjectName();
    const scope = [
      {
        subject: team,
        tier: 'team',
        limits: { ...request(team, {}).limits, requests: { capacity: 1, perMinute: 1 } },
      },
    ];
    allowed(await store.reserve(request(subjectName(), limits, { scope })));
    refused(await store.reserve(request(subject, limits, { ...keyed(), scope })));
    h().advance(60_000);
    const retry = allowed(await store.reserve(request(subject, limits, { ...keyed(), scope })));
    expect(retry.replayed).toBe(false);
    expect(retry.state.requests!.remaining).toBe(9);
  });
}
