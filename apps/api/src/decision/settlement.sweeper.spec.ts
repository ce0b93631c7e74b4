import { describe, expect, it } from 'vitest';
import type { AppConfig } from '#config';
import type { BudgetStore, Settlement } from '#budget';
import { LedgerUnavailableError } from '#kernel';
import type { LedgerWriter } from '#ledger';
import type { MetricsService } from '../observability/metrics.service.js';
import type { ReservationJournal } from './reservation.journal.js';
import { SettlementSweeper } from './settlement.sweeper.js';

const settlement = (n: number): Settlement => ({
  reservationId: `r${n}`,
  subject: 's',
  tier: 'free',
  model: 'gpt-4o-mini',
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: 0,
  costMicros: 1,
  status: 'expired',
  reservedAtMs: Date.UTC(2026, 0, 1),
  settledAtMs: Date.UTC(2026, 0, 1),
});

/** A sweeper over a store offering `pending` for re-append and a ledger that fails as told. */
function sweeperWith(pending: Settlement[], append: (s: Settlement) => Promise<void>) {
  const calls: string[] = [];
  const confirmed: string[] = [];
  const store = {
    expireDue: () => Promise.resolve([]),
    pendingLedger: () => Promise.resolve(pending),
    confirmLedgered: (done: Settlement[]) => {
      confirmed.push(...done.map((s) => s.reservationId));
      return Promise.resolve();
    },
  } as unknown as BudgetStore;
  const ledger = {
    append: (s: Settlement) => {
      calls.push(s.reservationId);
      return append(s);
    },
  } as unknown as LedgerWriter;
  const config = { get: () => 'charge' } as unknown as AppConfig;
  const sweeper = new SettlementSweeper(
    config,
    store,
    ledger,
    {} as MetricsService,
    {} as ReservationJournal,
  );
  return { sweeper, calls, confirmed };
}

describe('SettlementSweeper', () => {
  it('writes a refused batch one by one: the rows Postgres refuses stay pending, the rest are confirmed', async () => {
    const refused = Object.assign(new Error('this row is refused'), { code: 'P0001' });
    const { sweeper, confirmed } = sweeperWith([1, 2, 3].map(settlement), (s) =>
      s.reservationId === 'r2'
        ? Promise.reject(new LedgerUnavailableError('refused', { cause: refused }))
        : Promise.resolve(),
    );
    // The batch fails as a whole only when appended together; here each append stands alone.
    await sweeper.sweep();
    expect(confirmed).toEqual(['r1', 'r3']);
  });

  it('stops at the first append that finds Postgres unreachable, instead of waiting on each', async () => {
    const { sweeper, calls, confirmed } = sweeperWith([1, 2, 3, 4, 5].map(settlement), () =>
      Promise.reject(new LedgerUnavailableError('no answer from Postgres within 1500 ms')),
    );
    await sweeper.sweep();
    // Five together, then one alone: not five more waits of 1.5 s each.
    expect(calls).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r1']);
    expect(confirmed).toEqual([]);
  });
});
