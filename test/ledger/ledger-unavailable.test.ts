import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerUnavailableError } from '#kernel';
import { LedgerWriter } from '#ledger';
import { testEnv } from '../support/test-env.js';
import { PostgresProxy, openDataSource, settlement } from './ledger.helpers.js';
import { unique } from '../support/polling.js';

let direct: DataSource;

beforeAll(async () => {
  direct = await openDataSource(testEnv().databaseUrl);
});

afterAll(async () => {
  await direct.destroy();
});

async function rowsOf(subject: string): Promise<{ ledger: number; cost: string | null }> {
  const [row] = await direct.query(
    `SELECT (SELECT count(*)::int FROM usage_ledger WHERE subject = $1) AS ledger,
            (SELECT sum(cost_usd)::text FROM daily_usage WHERE subject = $1) AS cost`,
    [subject],
  );
  return row;
}

describe('LedgerWriter when Postgres is unreachable', () => {
  it('rejects with ledger_unavailable, loses nothing, and works again when Postgres returns', async () => {
    const proxy = new PostgresProxy(new URL(testEnv().databaseUrl));
    await proxy.start();
    const dataSource = await openDataSource(proxy.url);
    const writer = new LedgerWriter(dataSource, { batchWaitMs: 2 });
    const subject = unique('subj');
    try {
      await writer.append(settlement({ subject, costMicros: 1 }));

      await proxy.stop();
      const during = Array.from({ length: 5 }, (_, i) =>
        settlement({ subject, costMicros: 10 ** (i + 1) }),
      );
      const results = await Promise.allSettled(during.map((s) => writer.append(s)));
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as LedgerUnavailableError;
        expect(error).toBeInstanceOf(LedgerUnavailableError);
        expect(error.code).toBe('ledger_unavailable');
        expect(error.status).toBe(503);
      }
      expect(await rowsOf(subject)).toEqual({ ledger: 1, cost: '0.000001' });

      await proxy.start();
      // The caller's retry (or the re-append job) lands them, each exactly once, even doubled.
      await Promise.all([...during, ...during].map((s) => writer.append(s)));
      expect(await rowsOf(subject)).toEqual({ ledger: 6, cost: '0.111111' });
    } finally {
      await writer.flush();
      await dataSource.destroy().catch(() => undefined);
      await proxy.stop();
    }
  });

  it('does not keep a caller waiting on a Postgres that stopped answering', async () => {
    const proxy = new PostgresProxy(new URL(testEnv().databaseUrl));
    await proxy.start();
    const dataSource = await openDataSource(proxy.url);
    const writer = new LedgerWriter(dataSource, { batchWaitMs: 2, commitTimeoutMs: 300 });
    const subject = unique('subj');
    try {
      await writer.append(settlement({ subject, costMicros: 1 }));
      proxy.hang();
      const started = performance.now();
      const late = settlement({ subject, costMicros: 2 });
      await expect(writer.append(late)).rejects.toMatchObject({ code: 'ledger_unavailable' });
      expect(performance.now() - started).toBeLessThan(1_500);

      // Connections cut, then back: the retry lands, once.
      await proxy.stop();
      await proxy.start();
      await writer.append(late);
      await writer.append(late);
      expect(await rowsOf(subject)).toEqual({ ledger: 2, cost: '0.000003' });
    } finally {
      await dataSource.destroy().catch(() => undefined);
      await proxy.stop();
    }
  });
});
