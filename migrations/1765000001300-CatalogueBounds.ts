import type { MigrationInterface, QueryRunner } from 'typeorm';

const ENCODINGS = ['o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base', 'gpt2'];

/**
 * The database refuses catalogue values the service cannot hold exactly (libs/ledger
 * catalogue.rows.ts has the same bounds): money limits up to 2^53 − 1 micro-dollars, prices up to
 * $1,000,000 per million tokens, multipliers in whole millionths up to 1,000, and encodings the
 * tokenizer ships. NOT VALID: rows written before this migration are not re-checked (an upgrade
 * never fails on them); the catalogue skips such a row with an error log line instead.
 */
export class CatalogueBounds1765000001300 implements MigrationInterface {
  name = 'CatalogueBounds1765000001300';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tiers
        ADD CONSTRAINT ck_tiers_daily_cost_limit_usd_max
          CHECK (daily_cost_limit_usd <= 9007199254.740991) NOT VALID,
        ADD CONSTRAINT ck_tiers_monthly_cost_limit_usd_max
          CHECK (monthly_cost_limit_usd <= 9007199254.740991) NOT VALID`);
    await db.query(`
      ALTER TABLE models
        ADD CONSTRAINT ck_models_input_price_max CHECK (input_usd_per_mtok <= 1000000) NOT VALID,
        ADD CONSTRAINT ck_models_output_price_max CHECK (output_usd_per_mtok <= 1000000) NOT VALID,
        ADD CONSTRAINT ck_models_token_multiplier_max
          CHECK (token_multiplier <= 1000 AND scale(token_multiplier) <= 6) NOT VALID,
        ADD CONSTRAINT ck_models_encoding
          CHECK (encoding IS NULL OR btrim(encoding) = ''
                 OR lower(btrim(encoding)) IN (${ENCODINGS.map((e) => `'${e}'`).join(', ')})) NOT VALID`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tiers
        DROP CONSTRAINT ck_tiers_daily_cost_limit_usd_max,
        DROP CONSTRAINT ck_tiers_monthly_cost_limit_usd_max`);
    await db.query(`
      ALTER TABLE models
        DROP CONSTRAINT ck_models_input_price_max,
        DROP CONSTRAINT ck_models_output_price_max,
        DROP CONSTRAINT ck_models_token_multiplier_max,
        DROP CONSTRAINT ck_models_encoding`);
  }
}
