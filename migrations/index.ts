import { CreateSchema1764000000000 } from './1764000000000-CreateSchema.js';
import { SeedCatalogue1764000000001 } from './1764000000001-SeedCatalogue.js';
import { MonthlyCostLimit1765000000150 } from './1765000000150-MonthlyCostLimit.js';
import { SubjectParent1765000000151 } from './1765000000151-SubjectParent.js';
import { BudgetAlerts1765000000155 } from './1765000000155-BudgetAlerts.js';
import { CatalogueBounds1765000001300 } from './1765000001300-CatalogueBounds.js';
import { CachedInputPrices1765000001400 } from './1765000001400-CachedInputPrices.js';
import { AdminRolesAudit1765000001600 } from './1765000001600-AdminRolesAudit.js';
import { SpendRollups1766000000300 } from './1766000000300-SpendRollups.js';

/** Every migration, in order. A new file from `npm run migration:create` is added here. */
export const MIGRATIONS = [
  CreateSchema1764000000000,
  SeedCatalogue1764000000001,
  MonthlyCostLimit1765000000150,
  SubjectParent1765000000151,
  BudgetAlerts1765000000155,
  CatalogueBounds1765000001300,
  CachedInputPrices1765000001400,
  AdminRolesAudit1765000001600,
  SpendRollups1766000000300,
];
