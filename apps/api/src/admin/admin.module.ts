import { Module } from '@nestjs/common';
import { LedgerModule } from '#ledger';
import { DecisionModule } from '../decision/decision.module.js';
import { AlertsService } from './alerts.service.js';
import { CatalogueController } from './catalogue.controller.js';
import { KeysController } from './keys.controller.js';
import { KeysService } from './keys.service.js';
import { ModelsService } from './models.service.js';
import { OverviewService } from './overview.service.js';
import { SpendController } from './spend.controller.js';
import { SpendService } from './spend.service.js';
import { SubjectsService } from './subjects.service.js';
import { TiersService } from './tiers.service.js';
import { TopSubjectsController } from './top-subjects.controller.js';
import { TopSubjectsService } from './top-subjects.service.js';

/** The admin API (SPEC §4 "Admin API"): every route needs an admin key. */
@Module({
  imports: [LedgerModule, DecisionModule],
  controllers: [CatalogueController, KeysController, SpendController, TopSubjectsController],
  providers: [
    AlertsService,
    TiersService,
    SubjectsService,
    ModelsService,
    KeysService,
    SpendService,
    OverviewService,
    TopSubjectsService,
  ],
})
export class AdminModule {}
