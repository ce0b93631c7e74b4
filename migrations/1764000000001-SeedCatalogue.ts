import type { MigrationInterface, QueryRunner } from 'typeorm';

/** [name, requests/min, tokens/min, token burst, max concurrent, daily USD] — NULL is unlimited. */
const TIERS: [string, number, number, number | null, number, string | null][] = [
  ['free', 10, 10_000, null, 2, '1'],
  ['standard', 60, 100_000, null, 10, '50'],
  ['enterprise', 300, 1_000_000, null, 50, null],
];

/**
 * Public list prices in USD per million tokens (input, output). Non-OpenAI models are counted
 * with an OpenAI encoding times token_multiplier: an approximation, rounded up, never free.
 */
const MODELS: [string, string, string, string, number, string][] = [
  ['gpt-5', 'o200k_base', '1.25', '10', 8192, '1'],
  ['gpt-5-mini', 'o200k_base', '0.25', '2', 8192, '1'],
  ['gpt-5-nano', 'o200k_base', '0.05', '0.4', 8192, '1'],
  ['gpt-4.1', 'o200k_base', '2', '8', 4096, '1'],
  ['gpt-4.1-mini', 'o200k_base', '0.4', '1.6', 4096, '1'],
  ['gpt-4.1-nano', 'o200k_base', '0.1', '0.4', 4096, '1'],
  ['gpt-4o', 'o200k_base', '2.5', '10', 4096, '1'],
  ['gpt-4o-mini', 'o200k_base', '0.15', '0.6', 4096, '1'],
  ['o3', 'o200k_base', '2', '8', 8192, '1'],
  ['o3-mini', 'o200k_base', '1.1', '4.4', 8192, '1'],
  ['o4-mini', 'o200k_base', '1.1', '4.4', 8192, '1'],
  ['o1', 'o200k_base', '15', '60', 8192, '1'],
  ['gpt-4-turbo', 'cl100k_base', '10', '30', 4096, '1'],
  ['gpt-4', 'cl100k_base', '30', '60', 4096, '1'],
  ['gpt-3.5-turbo', 'cl100k_base', '0.5', '1.5', 4096, '1'],
  ['claude-sonnet-4', 'cl100k_base', '3', '15', 4096, '1.2'],
  ['claude-3-5-haiku', 'cl100k_base', '0.8', '4', 4096, '1.2'],
  ['gemini-2.5-pro', 'o200k_base', '1.25', '10', 8192, '1.1'],
  ['gemini-2.5-flash', 'o200k_base', '0.3', '2.5', 8192, '1.1'],
  ['mistral-large', 'cl100k_base', '2', '6', 4096, '1.15'],
];

export class SeedCatalogue1764000000001 implements MigrationInterface {
  name = 'SeedCatalogue1764000000001';

  async up(db: QueryRunner): Promise<void> {
    for (const row of TIERS) {
      await db.query(
        `INSERT INTO tiers (name, requests_per_minute, tokens_per_minute, token_burst, max_concurrent, daily_cost_limit_usd)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        row,
      );
    }
    for (const row of MODELS) {
      await db.query(
        `INSERT INTO models (name, encoding, input_usd_per_mtok, output_usd_per_mtok, default_max_tokens, token_multiplier)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        row,
      );
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM models WHERE name = ANY($1)`, [MODELS.map(([name]) => name)]);
    await db.query(`DELETE FROM tiers WHERE name = ANY($1)`, [TIERS.map(([name]) => name)]);
  }
}
