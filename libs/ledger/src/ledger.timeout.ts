import { InvalidSettlementError, LedgerUnavailableError } from '#kernel';

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

/**
 * Whether an append failed because Postgres answered and refused the rows (a data, integrity or
 * raised error: the same rows would fail again), or the settlement is one it would refuse — as
 * opposed to Postgres being unreachable, slow or shutting down, when every append fails alike.
 */
export function refusedByPostgres(error: unknown): boolean {
  if (error instanceof InvalidSettlementError) {
    return true;
  }
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  // A SQLSTATE; classes 08 (connection), 53 (resources) and 57 (shutdown, cancel) are outages.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !/^(08|53|57)/.test(code);
}
