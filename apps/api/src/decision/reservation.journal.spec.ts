import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBudgetStore, type ReserveRequest } from '#budget';
import { IdempotencyKeyReusedError } from '#kernel';
import type { SettlementRepository } from '#ledger';
import { FakeDailyCostSource, request } from '../../../../test/budget/budget-store.harness.js';
import { JOURNAL_FILE, ReservationJournal } from './reservation.journal.js';

const noCost = new FakeDailyCostSource();
/** A ledger that has none of the reservations. */
const emptyLedger = {
  ledgered: () => Promise.resolve(new Set<string>()),
} as unknown as SettlementRepository;

/** One check with idempotency key k1; `fingerprint` stands for its body. */
const check = (fingerprint: string): ReserveRequest =>
  request('alice', {}, { idempotencyKey: 'k1', idempotencyFingerprint: fingerprint });

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'journal-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ReservationJournal', () => {
  it('keeps the idempotency keys across a restart: the retried check is replayed, another body refused', async () => {
    const before = new MemoryBudgetStore(noCost);
    const first = await before.reserve(check('body-a'));
    if (!first.allowed) {
      throw new Error('the first check was refused');
    }
    await before.commit(first.reservation.reservationId, {
      promptTokens: 100,
      completionTokens: 20,
    });
    new ReservationJournal(dataDir).save(before);
    const saved = JSON.parse(readFileSync(join(dataDir, JOURNAL_FILE), 'utf8')) as {
      version: number;
      idempotency: { subject: string; key: string }[];
    };
    expect(saved.version).toBe(2);
    expect(saved.idempotency).toEqual([expect.objectContaining({ subject: 'alice', key: 'k1' })]);

    const after = new MemoryBudgetStore(noCost);
    await new ReservationJournal(dataDir).restore(after, emptyLedger);
    const retried = await after.reserve(check('body-a'));
    expect(retried).toMatchObject({ allowed: true, replayed: true });
    expect(retried.allowed && retried.reservation).toEqual(first.reservation);
    expect((await after.usage('alice', check('').limits)).inFlight).toEqual([]);
    await expect(after.reserve(check('body-b'))).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('reads a version 1 file (no idempotency keys): its held reservations come back', async () => {
    const before = new MemoryBudgetStore(noCost);
    const held = await before.reserve({ ...check(''), idempotencyKey: undefined });
    writeFileSync(
      join(dataDir, JOURNAL_FILE),
      JSON.stringify({ version: 1, savedAtMs: Date.now(), records: before.unledgered() }),
    );
    const after = new MemoryBudgetStore(noCost);
    expect(await new ReservationJournal(dataDir).restore(after, emptyLedger)).toBe(1);
    expect(held.allowed && (await after.find(held.reservation.reservationId))).toEqual(
      held.allowed && held.reservation,
    );
    expect(after.idempotencyEntries()).toEqual([]);
  });
});
