import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SPEC §3 `monthly_cost`: a cost limit over the UTC calendar month; NULL is unlimited. */
export class MonthlyCostLimit1765000000150 implements MigrationInterface {
  name = 'MonthlyCostLimit1765000000150';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE tiers ADD COLUMN monthly_cost_limit_usd numeric
        CONSTRAINT ck_tiers_monthly_cost_limit_usd
        CHECK (monthly_cost_limit_usd >= 0 AND scale(monthly_cost_limit_usd) <= 6)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE tiers DROP COLUMN monthly_cost_limit_usd`);
  }
}
