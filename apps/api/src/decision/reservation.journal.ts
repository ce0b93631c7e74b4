import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import {
  type MemoryBudgetStore,
  type MemoryIdempotencyEntry,
  type MemoryRecord,
  reservationId,
} from '#budget';
import type { SettlementRepository } from '#ledger';

/** Under DATA_DIR, beside the embedded database. */
export const JOURNAL_FILE = 'reservations.json';

/** Version 2 adds the idempotency keys; a version 1 file (without them) is read as having none. */
interface JournalFile {
  version: 1 | 2;
  savedAtMs: number;
  records: MemoryRecord[];
  idempotency?: MemoryIdempotencyEntry[];
}

/** What a save compares with the last one, to write only a change. */
function contents(records: unknown, idempotency: unknown): string {
  return JSON.stringify([records, idempotency]);
}

/**
 * Embedded mode keeps the reservations decided in process across a restart (SPEC §7): the
 * in-process store's held reservations and unconfirmed settlements are written to
 * DATA_DIR/reservations.json at every sweep and at shutdown, and taken back at start. A
 * reservation taken back is then committed, refunded or expired like any other, exactly once:
 * one the ledger already has (settled after the last save, before a crash) is dropped at start,
 * and the ledger keeps one row per reservation id whatever happens. The idempotency keys still
 * answering (a day, SPEC §4) are kept in the same file, so a check retried after a restart gets
 * the reservation its key made instead of a second one.
 */
export class ReservationJournal {
  private readonly logger = new Logger(ReservationJournal.name);
  private readonly file: string;
  private lastSaved: string | undefined;

  constructor(dataDir: string) {
    this.file = join(resolve(dataDir), JOURNAL_FILE);
  }

  /** Restores what the last process saved; returns how many reservations are held again. */
  async restore(store: MemoryBudgetStore, ledger: SettlementRepository): Promise<number> {
    let saved: JournalFile;
    try {
      saved = JSON.parse(readFileSync(this.file, 'utf8')) as JournalFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error(`${this.file} could not be read, nothing restored: ${String(error)}`);
      }
      return 0;
    }
    const records = Array.isArray(saved.records) ? saved.records : [];
    const idempotency = Array.isArray(saved.idempotency) ? saved.idempotency : [];
    // An ancestor's share has its own subject but the reservation's ref: the reservation's own
    // record (never a share) says whether the ledger has it.
    const own = records.filter((record) => !record.level);
    const ids = new Map(own.map((record) => [record.ref, reservationId(record)]));
    // Unanswered, all are taken back: the ledger still keeps one row per id, and a reservation
    // it already had only holds its lease until it expires.
    const ledgered = await ledger.ledgered([...ids.values()]).catch((error: unknown) => {
      this.logger.warn(`The ledger could not be asked which were settled: ${String(error)}`);
      return new Set<string>();
    });
    const kept = records.filter((record) => !ledgered.has(ids.get(record.ref) ?? ''));
    store.restore(kept);
    store.restoreIdempotency(idempotency);
    this.lastSaved = contents(saved.records, idempotency);
    const held = kept.filter((record) => record.status === 'held' && !record.level).length;
    if (kept.length > 0 || idempotency.length > 0) {
      this.logger.log(
        `Restored ${held} reservation(s) held, ${own.length - held - ledgered.size} settlement(s) not yet in the ledger and ${idempotency.length} idempotency key(s) from ${this.file}`,
      );
    }
    return held;
  }

  /**
   * Writes the store's unledgered records and live idempotency keys (atomically: a crash leaves
   * the old or the new file).
   */
  save(store: MemoryBudgetStore): void {
    const records = store.unledgered();
    const idempotency = store.idempotencyEntries();
    const text = contents(records, idempotency);
    if (text === this.lastSaved) {
      return;
    }
    if (records.length === 0 && idempotency.length === 0 && this.lastSaved === undefined) {
      this.lastSaved = text;
      rmSync(this.file, { force: true });
      return;
    }
    const body: JournalFile = { version: 2, savedAtMs: Date.now(), records, idempotency };
    // The in-process store may run beside a shared Postgres, with no embedded database to have
    // made DATA_DIR.
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(body), { mode: 0o600 });
    renameSync(temporary, this.file);
    this.lastSaved = text;
  }
}
