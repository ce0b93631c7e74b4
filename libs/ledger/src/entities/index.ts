import { AdminAudit } from './admin-audit.entity.js';
import { ApiClient, type ApiClientRole } from './api-client.entity.js';
import { ApiKeyGrace } from './api-key-grace.entity.js';
import { BudgetAlert } from './budget-alert.entity.js';
import { DailyUsage } from './daily-usage.entity.js';
import { ModelPrice } from './model-price.entity.js';
import { SpendDailyModel, SpendDailySubject } from './spend-daily.entity.js';
import { Subject } from './subject.entity.js';
import { TierModelLimit } from './tier-model-limit.entity.js';
import { Tier } from './tier.entity.js';
import { UsageLedgerEntry } from './usage-ledger-entry.entity.js';

export type { ApiClientRole };
export {
  AdminAudit,
  ApiClient,
  ApiKeyGrace,
  BudgetAlert,
  DailyUsage,
  ModelPrice,
  SpendDailyModel,
  SpendDailySubject,
  Subject,
  Tier,
  TierModelLimit,
  UsageLedgerEntry,
};

/** Every entity TypeORM maps; the schema itself comes only from migrations/. */
export const ENTITIES = [
  ApiClient,
  Tier,
  Subject,
  ModelPrice,
  TierModelLimit,
  UsageLedgerEntry,
  DailyUsage,
  AdminAudit,
  ApiKeyGrace,
  BudgetAlert,
  SpendDailySubject,
  SpendDailyModel,
];
