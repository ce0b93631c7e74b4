import { LedgerUnavailableError } from '#kernel';

/**
 * How long a request may wait on Postgres (SPEC §7: no request waits on it; commits answer 503
 * within 2 s). A silent Postgres (black-holed connection) would otherwise hold a request for the
 * pool's connect timeout, or for ever once a query is on a dead connection.
 */
export const LEDGER_WAIT_MS = 1_500;

/**
 * Resolves as `work` does, or rejects with LedgerUnavailableError (503 ledger_unavailable) when
 * it fails or takes longer than `ms`. Never a raw driver error: a caller (the failover store)
 * must be able to tell a Postgres fault from a Redis one.
 */
export function ledgerCall<T>(what: string, work: Promise<T>, ms = LEDGER_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LedgerUnavailableError(`no answer from Postgres within ${ms} ms (${what})`)),
      ms,
    );
  });
  const wrapped = work.catch((error: unknown) => {
    if (error instanceof LedgerUnavailableError || !isDriverError(error)) {
      throw error;
    }
    throw new LedgerUnavailableError(error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  });
  return Promise.race([wrapped, timeout]).finally(() => clearTimeout(timer));
}

/** Anything but our own argument checks: connection, protocol and server errors. */
function isDriverError(error: unknown): boolean {
  return !(error instanceof RangeError);
}
