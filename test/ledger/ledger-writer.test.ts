import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settlement } from '#budget';
import { DailyUsageRepository } from '#ledger';
import { InvalidSettlementError } from '#kernel';
import { type BatchEvent, LedgerWriter } from '#ledger';
import { testEnv } from '../support/test-env.js';
import { openDataSource, settlement } from './ledger.helpers.js';
import { unique } from '../support/polling.js';

let dataSource: DataSource;
let writer: LedgerWriter;
let daily: DailyUsageRepository;
const batches: BatchEvent[] = [];

beforeAll(async () => {
  dataSource = await openDataSource(testEnv().databaseUrl);
  writer = new LedgerWriter(dataSource, { batchWaitMs: 2 });
  writer.onBatch((event) => batches.push(event));
  daily = new DailyUsageRepository(dataSource);
});

afterAll(async () => {
  await writer.flush();
  await dataSource.destroy();
});

async function ledgerRows(reservationId: string): Promise<Record<string, unknown>[]> {
  return dataSource.query(
    `SELECT subject, tier, model, prompt_tokens, completion_tokens, cost_usd::text AS cost_usd,
            status, reserved_at, settled_at
     FROM usage_ledger WHERE reservation_id = $1`,
    [reservationId],
  );
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('LedgerWriter', () => {
  it('writes the same settlement appended 20 times concurrently exactly once', async () => {
    const s = settlement({ costMicros: 123_457, promptTokens: 1000, completionTokens: 200 });
    await Promise.all(Array.from({ length: 20 }, () => writer.append({ ...s })));
    // And once more, later, as a client retry would.
    await writer.append({ ...s });

    const rows = await ledgerRows(s.reservationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      subject: s.subject,
      tier: 'free',
      model: 'gpt-4o',
      prompt_tokens: 1000,
      completion_tokens: 200,
      cost_usd: '0.123457',
      status: 'committed',
    });
    expect((rows[0]!.settled_at as Date).getTime()).toBe(s.settledAtMs);
    expect((rows[0]!.reserved_at as Date).getTime()).toBe(s.reservedAtMs);
    expect(await daily.today(s.subject, day(s.settledAtMs))).toEqual({
      costMicros: 123_457,
      requests: 1,
      promptTokens: 1000,
      completionTokens: 200,
    });
  });

  it('counts only charged settlements in daily usage, and every settlement in the ledger', async () => {
    const subject = unique('subj');
    const at = Date.now();
    const all: Settlement[] = [
      settlement({
        subject,
        status: 'committed',
        costMicros: 1_000,
        promptTokens: 10,
        completionTokens: 5,
      }),
      // A refund without usage: a ledger row, no charge.
      settlement({
        subject,
        status: 'refunded',
        costMicros: 0,
        promptTokens: 0,
        completionTokens: 0,
      }),
      settlement({
        subject,
        status: 'refunded',
        costMicros: 300,
        promptTokens: 30,
        completionTokens: 1,
      }),
      settlement({
        subject,
        status: 'expired',
        costMicros: 2_000,
        promptTokens: 100,
        completionTokens: 512,
      }),
      // Expired and released: the estimate's tokens are on the row, but nothing was charged.
      settlement({
        subject,
        status: 'expired',
        costMicros: 0,
        promptTokens: 100,
        completionTokens: 512,
      }),
    ].map((s) => ({ ...s, settledAtMs: at }));
    await Promise.all(all.map((s) => writer.append(s)));

    const [{ count }] = await dataSource.query(
      `SELECT count(*)::int AS count FROM usage_ledger WHERE subject = $1`,
      [subject],
    );
    expect(count).toBe(5);
    expect(await daily.today(subject, day(at))).toEqual({
      costMicros: 3_300,
      requests: 3,
      promptTokens: 140,
      completionTokens: 518,
    });
    expect(await daily.committedCostMicros(subject, day(at))).toBe(3_300);
  });

  it('books a settlement on the UTC day it was settled', async () => {
    const subject = unique('subj');
    const midnight = Date.UTC(2026, 10, 23);
    await Promise.all([
      writer.append(settlement({ subject, settledAtMs: midnight - 1, costMicros: 10 })),
      writer.append(settlement({ subject, settledAtMs: midnight, costMicros: 20 })),
    ]);
    expect(await daily.committedCostMicros(subject, '2026-11-22')).toBe(10);
    expect(await daily.committedCostMicros(subject, '2026-11-23')).toBe(20);
    expect(await daily.committedCostMicros(subject, '2026-11-24')).toBe(0);
  });

  it('answers zeros for a subject with no usage', async () => {
    expect(await daily.today(unique('nobody'), '2026-11-22')).toEqual({
      costMicros: 0,
      requests: 0,
      promptTokens: 0,
      completionTokens: 0,
    });
    await expect(daily.today('x', '22/11/2026')).rejects.toThrow(RangeError);
  });

  it('refuses a malformed settlement alone, without failing its batch', async () => {
    const good = settlement();
    const results = await Promise.allSettled([
      writer.append(settlement({ promptTokens: -1 })),
      writer.append(settlement({ subject: 'nul\u0000byte' })),
      writer.append(settlement({ costMicros: 0.5 })),
      writer.append(settlement({ settledAtMs: 1_700_000_000 })), // seconds, not milliseconds
      writer.append(settlement({ status: 'cancelled' as Settlement['status'] })),
      writer.append(good),
    ]);
    const errors = results.slice(0, 5).map((r) => (r.status === 'rejected' ? r.reason : r));
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvalidSettlementError);
      expect(error).toMatchObject({ code: 'invalid_settlement' });
    }
    expect(results[5]!.status).toBe('fulfilled');
    expect(await ledgerRows(good.reservationId)).toHaveLength(1);
  });

  it('groups concurrent appends into few statements and reports their sizes', async () => {
    const before = batches.length;
    const subject = unique('subj');
    await Promise.all(
      Array.from({ length: 1200 }, () => writer.append(settlement({ subject, costMicros: 1 }))),
    );
    const mine = batches.slice(before);
    expect(mine.every((event) => event.ok)).toBe(true);
    expect(mine.reduce((sum, event) => sum + event.size, 0)).toBe(1200);
    expect(Math.max(...mine.map((event) => event.size))).toBe(500); // the cap
    expect(mine.length).toBeLessThanOrEqual(6);
    expect((await daily.today(subject, day(Date.now()))).requests).toBe(1200);
  });

  it('lets two instances append overlapping batches in any order: no deadlock, no double charge', async () => {
    const other = new LedgerWriter(dataSource, { batchWaitMs: 1, maxBatchSize: 37 });
    const mine = new LedgerWriter(dataSource, { batchWaitMs: 3, maxBatchSize: 53 });
    const subjects = Array.from({ length: 7 }, () => unique('subj'));
    const at = Date.now();
    const all = Array.from({ length: 600 }, (_, i) =>
      settlement({ subject: subjects[i % subjects.length]!, costMicros: i + 1, settledAtMs: at }),
    );
    const shuffled = [...all].sort(() => Math.random() - 0.5);
    await Promise.all([
      ...all.map((s) => mine.append(s)),
      ...shuffled.map((s) => other.append(s)),
      ...[...all].reverse().map((s) => writer.append(s)),
    ]);
    for (const [index, subject] of subjects.entries()) {
      const expected = all.filter((_, i) => i % subjects.length === index);
      expect(await daily.today(subject, day(at))).toEqual({
        costMicros: expected.reduce((sum, s) => sum + s.costMicros, 0),
        requests: expected.length,
        promptTokens: expected.length * 100,
        completionTokens: expected.length * 50,
      });
    }
  });

  it('flush waits for appends still queued', async () => {
    const slow = new LedgerWriter(dataSource, { batchWaitMs: 1_000 });
    const s = settlement();
    const appended = slow.append(s);
    expect(slow.pending).toBe(1);
    await slow.flush();
    expect(slow.pending).toBe(0);
    await appended;
    expect(await ledgerRows(s.reservationId)).toHaveLength(1);
  });
});
