/**
 * The ledger could not confirm a write (Postgres unreachable, timed out, or the connection died
 * mid-commit). The settlement may or may not be stored: retrying is safe because appends are
 * idempotent per reservation id.
 */
export class LedgerUnavailableError extends DomainError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('ledger_unavailable', `The usage ledger is unavailable: ${reason}`, 503);
    if (options?.cause !== undefined) {
      this.cause = options.cause;
    }
  }
}

/** A settlement that Postgres would refuse whatever its state: a bug in the caller, never retried. */
export class InvalidSettlementError extends DomainError {
  constructor(reservationId: unknown, problem: string) {
    super('invalid_settlement', `Settlement ${String(reservationId)} is invalid: ${problem}`, 500, {
      reservation_id: reservationId,
    });
  }
}

/** No `models` row for this name and no `*` row to fall back on (SPEC §5). */
export class UnknownModelError extends DomainError {
  constructor(model: string) {
    super(
      'unknown_model',
      `Unknown model "${model}": it has no row in the models catalogue.`,
      400,
      {
        model,
      },
    );
  }
}

export class UnknownTierError extends DomainError {
  constructor(tier: string) {
    super('unknown_tier', `Unknown tier "${tier}".`, 404, { tier });
  }
}

/**
 * The catalogue row a check needs exists but could not be used (skipped at load, see the error
 * log and token_budget_catalogue_rows_skipped), or DEFAULT_TIER has no row: an operator must fix
 * the row; judging the check on another row could overspend or refuse wrongly.
 */
export class CatalogueRowUnavailableError extends DomainError {
  constructor(table: 'tiers' | 'models', row: string, reason: string) {
    super(
      table === 'tiers' ? 'tier_unavailable' : 'model_unavailable',
      `The ${table} row "${row}" cannot be used (${reason}); an operator must fix it.`,
      503,
      { [table === 'tiers' ? 'tier' : 'model']: row },
    );
  }
}

export class ApiClientExistsError extends DomainError {
  constructor(name: string) {
    super(
      'api_client_exists',
      `An API client named "${name}" or with this key already exists.`,
      409,
      {
        name,
      },
    );
  }
}
import { DomainError } from '#kernel';
