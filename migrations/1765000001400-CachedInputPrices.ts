import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Published cached-input prices (USD per million tokens) of the catalogued OpenAI models. Models
 * whose provider publishes none keep NULL: their cached tokens are priced as any input token.
 */
const CACHED_INPUT_PRICES: [string, string][] = [
  ['gpt-5', '0.125'],
  ['gpt-5-mini', '0.025'],
  ['gpt-5-nano', '0.005'],
  ['gpt-4.1', '0.5'],
  ['gpt-4.1-mini', '0.1'],
  ['gpt-4.1-nano', '0.025'],
  ['gpt-4o', '1.25'],
  ['gpt-4o-mini', '0.075'],
  ['o3', '0.5'],
  ['o3-mini', '0.55'],
  ['o4-mini', '0.275'],
  ['o1', '7.5'],
];

/** Cached input priced apart (SPEC §4 commit `usage`), and counted in the ledger. */
export class CachedInputPrices1765000001400 implements MigrationInterface {
  name = 'CachedInputPrices1765000001400';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE models ADD COLUMN cached_input_usd_per_mtok numeric
        CONSTRAINT ck_models_cached_input_price
        CHECK (cached_input_usd_per_mtok >= 0 AND scale(cached_input_usd_per_mtok) <= 6)`);
    await db.query(`
      ALTER TABLE usage_ledger ADD COLUMN cached_tokens int NOT NULL DEFAULT 0
        CONSTRAINT ck_usage_ledger_cached_tokens CHECK (cached_tokens >= 0)`);
    // Only the seeded rows an admin has not priced otherwise: never overwrite an edit.
    for (const [name, price] of CACHED_INPUT_PRICES) {
      await db.query(
        `UPDATE models SET cached_input_usd_per_mtok = $2
         WHERE name = $1 AND cached_input_usd_per_mtok IS NULL`,
        [name, price],
      );
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE usage_ledger DROP COLUMN cached_tokens`);
    await db.query(`ALTER TABLE models DROP COLUMN cached_input_usd_per_mtok`);
  }
}
