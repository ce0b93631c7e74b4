import type { BudgetStore, Settlement } from '#budget';

/**
 * Tells the store which settlements the ledger made durable, once per event-loop turn: the
 * appends of one group-commit batch resolve in the same turn, so their confirmations leave
 * together (one confirmLedgered() call; the store runs one script per subject among them)
 * instead of one call per commit. A confirmation that fails loses nothing: the sweeper
 * re-appends what stays unconfirmed (the ledger keeps one row per reservation).
 */
export class LedgerConfirmations {
  private waiting: Settlement[] = [];

  constructor(private readonly store: BudgetStore) {}

  add(settlement: Settlement): void {
    if (this.waiting.length === 0) {
      setImmediate(() => this.flush());
    }
    this.waiting.push(settlement);
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.store.confirmLedgered(batch).catch(() => undefined);
  }
}
