import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Settlement, SettlementStatus } from '#budget';
import { usdToMicros } from '#kernel';
import { ledgerCall } from './ledger.timeout.js';

/**
 * Settlements read back from usage_ledger. The ledger keeps them for good, while the store keeps
 * a settled reservation only a short while: a commit or refund repeated later is answered from
 * here (the same 200, or 409 when it was settled another way).
 */
@Injectable()
export class SettlementRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Of these reservation ids, those the ledger holds a row for. */
  async ledgered(reservationIds: readonly string[]): Promise<Set<string>> {
    if (reservationIds.length === 0) {
      return new Set();
    }
    const rows: { reservation_id: string }[] = await ledgerCall(
      'settled reservations',
      this.dataSource.query(
        'SELECT reservation_id FROM usage_ledger WHERE reservation_id = ANY($1::text[])',
        [reservationIds],
      ),
    );
    return new Set(rows.map((row) => row.reservation_id));
  }

  async find(reservationId: string): Promise<Settlement | null> {
    // ::text keeps numeric exact and the same shape under pg and PGlite.
    const rows: {
      subject: string;
      tier: string;
      model: string;
      prompt_tokens: number;
      completion_tokens: number;
      cached_tokens: number;
      cost_usd: string;
      status: SettlementStatus;
      reserved_ms: string;
      settled_ms: string;
    }[] = await ledgerCall(
      'settlement lookup',
      this.dataSource.query(
        `SELECT subject, tier, model, prompt_tokens, completion_tokens, cached_tokens,
                cost_usd::text AS cost_usd,
                status, floor(extract(epoch FROM reserved_at) * 1000)::bigint::text AS reserved_ms,
                floor(extract(epoch FROM settled_at) * 1000)::bigint::text AS settled_ms
           FROM usage_ledger WHERE reservation_id = $1`,
        [reservationId],
      ),
    );
    // Unreachable: a retryable 503 (the caller retries), never a 404 it would give up on.
    const row = rows[0];
    if (row === undefined) {
      return null;
    }
    return {
      reservationId,
      subject: row.subject,
      tier: row.tier,
      model: row.model,
      promptTokens: Number(row.prompt_tokens),
      completionTokens: Number(row.completion_tokens),
      cachedTokens: Number(row.cached_tokens),
      costMicros: usdToMicros(row.cost_usd),
      status: row.status,
      reservedAtMs: Number(row.reserved_ms),
      settledAtMs: Number(row.settled_ms),
    };
  }
}
