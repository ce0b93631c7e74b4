import { Module } from '@nestjs/common';
import { LedgerModule } from '#ledger';
import { TokenizerModule } from '#tokenizer';
import { LedgerMetrics } from '../observability/ledger.metrics.js';
import { DecisionController } from './decision.controller.js';
import { DecisionService } from './decision.service.js';
import { EstimateService } from './estimate.service.js';
import { SettlementSweeper } from './settlement.sweeper.js';
import {
  BudgetStoreCloser,
  budgetStoreProvider,
  reservationJournalProvider,
} from './store.provider.js';
import { UsageController } from './usage.controller.js';

@Module({
  imports: [LedgerModule, TokenizerModule],
  controllers: [DecisionController, UsageController],
  providers: [
    reservationJournalProvider,
    budgetStoreProvider,
    BudgetStoreCloser,
    EstimateService,
    DecisionService,
    SettlementSweeper,
    LedgerMetrics,
  ],
  exports: [budgetStoreProvider],
})
export class DecisionModule {}
