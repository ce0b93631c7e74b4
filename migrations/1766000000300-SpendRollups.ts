import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The totals both rollups keep, and how a change of the ledger adds to (or takes from) them. */
const TOTALS = `cost_usd numeric NOT NULL DEFAULT 0,
        requests bigint NOT NULL DEFAULT 0,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cached_tokens bigint NOT NULL DEFAULT 0,
        settlements bigint NOT NULL DEFAULT 0`;
const SUMS = `sign * sum(cost_usd), sign * count(*) FILTER (WHERE cost_usd > 0),
             sign * sum(prompt_tokens), sign * sum(completion_tokens), sign * sum(cached_tokens),
             sign * count(*)`;
const ADD = `cost_usd = r.cost_usd + EXCLUDED.cost_usd,
      requests = r.requests + EXCLUDED.requests,
      prompt_tokens = r.prompt_tokens + EXCLUDED.prompt_tokens,
      completion_tokens = r.completion_tokens + EXCLUDED.completion_tokens,
      cached_tokens = r.cached_tokens + EXCLUDED.cached_tokens,
      settlements = r.settlements + EXCLUDED.settlements`;
const DAY = `(settled_at AT TIME ZONE 'UTC')::date`;

/**
 * Spend reports (GET /v1/admin/spend) read whole UTC days, so they read per-day totals of the
 * ledger instead of its rows: `spend_daily_subjects` (day × subject) and `spend_daily_models`
 * (day × model × tier × caller, the caller '' where the ledger row has none). Statement triggers
 * on usage_ledger keep both in the transaction of every ledger change — the service's appends as
 * much as an INSERT, UPDATE or DELETE made with SQL — so a report equals the ledger exactly.
 * Rows are upserted in key order, so concurrent appends wait on each other but never deadlock.
 * The wide covering index they replace is dropped: every append paid for it.
 */
export class SpendRollups1766000000300 implements MigrationInterface {
  name = 'SpendRollups1766000000300';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE spend_daily_subjects (
        day date NOT NULL,
        subject text NOT NULL,
        ${TOTALS},
        CONSTRAINT pk_spend_daily_subjects PRIMARY KEY (day, subject)
      )`);
    await db.query(`
      CREATE TABLE spend_daily_models (
        day date NOT NULL,
        model text NOT NULL,
        tier text NOT NULL,
        caller text NOT NULL DEFAULT '',
        ${TOTALS},
        CONSTRAINT pk_spend_daily_models PRIMARY KEY (day, model, tier, caller)
      )`);
    // TG_ARGV[0]: +1 for the rows a statement added, -1 for those it removed.
    await db.query(`
      CREATE FUNCTION token_budget_roll_up_spend() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        sign int := TG_ARGV[0]::int;
      BEGIN
        INSERT INTO spend_daily_subjects AS r (day, subject, cost_usd, requests, prompt_tokens,
                                               completion_tokens, cached_tokens, settlements)
        SELECT ${DAY}, subject, ${SUMS}
        FROM changed_rows GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (day, subject) DO UPDATE SET ${ADD};
        INSERT INTO spend_daily_models AS r (day, model, tier, caller, cost_usd, requests,
                                             prompt_tokens, completion_tokens, cached_tokens,
                                             settlements)
        SELECT ${DAY}, model, tier, coalesce(caller, ''), ${SUMS}
        FROM changed_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (day, model, tier, caller) DO UPDATE SET ${ADD};
        -- A total whose last ledger row went away goes too (only the keys this change touched).
        IF sign < 0 THEN
          DELETE FROM spend_daily_subjects r USING changed_rows c
          WHERE r.day = (c.settled_at AT TIME ZONE 'UTC')::date AND r.subject = c.subject
            AND r.settlements = 0;
          DELETE FROM spend_daily_models r USING changed_rows c
          WHERE r.day = (c.settled_at AT TIME ZONE 'UTC')::date AND r.model = c.model
            AND r.tier = c.tier AND r.caller = coalesce(c.caller, '') AND r.settlements = 0;
        END IF;
        RETURN NULL;
      END $$`);
    for (const [name, event, table, sign] of [
      ['insert', 'INSERT', 'NEW', 1],
      ['update_old', 'UPDATE', 'OLD', -1],
      ['update_new', 'UPDATE', 'NEW', 1],
      ['delete', 'DELETE', 'OLD', -1],
    ] as const) {
      await db.query(`
        CREATE TRIGGER tg_usage_ledger_spend_${name} AFTER ${event} ON usage_ledger
        REFERENCING ${table} TABLE AS changed_rows
        FOR EACH STATEMENT EXECUTE FUNCTION token_budget_roll_up_spend('${sign}')`);
    }
    // The ledger as it stands.
    await db.query(`
      INSERT INTO spend_daily_subjects (day, subject, cost_usd, requests, prompt_tokens,
                                        completion_tokens, cached_tokens, settlements)
      SELECT ${DAY}, subject, ${SUMS.replaceAll('sign * ', '')}
      FROM usage_ledger GROUP BY 1, 2`);
    await db.query(`
      INSERT INTO spend_daily_models (day, model, tier, caller, cost_usd, requests, prompt_tokens,
                                      completion_tokens, cached_tokens, settlements)
      SELECT ${DAY}, model, tier, coalesce(caller, ''), ${SUMS.replaceAll('sign * ', '')}
      FROM usage_ledger GROUP BY 1, 2, 3, 4`);
    await db.query(`DROP INDEX ix_usage_ledger_spend`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE INDEX ix_usage_ledger_spend ON usage_ledger
        (settled_at, subject, tier, model, caller, cost_usd, prompt_tokens, completion_tokens,
         cached_tokens)`);
    for (const name of ['insert', 'update_old', 'update_new', 'delete']) {
      await db.query(`DROP TRIGGER tg_usage_ledger_spend_${name} ON usage_ledger`);
    }
    await db.query(`DROP FUNCTION token_budget_roll_up_spend()`);
    await db.query(`DROP TABLE spend_daily_models`);
    await db.query(`DROP TABLE spend_daily_subjects`);
  }
}
