import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AppConfigModule, type EnvironmentVariables } from '#config';
import { LedgerModule } from '#ledger';
import { AdminModule } from './admin/admin.module.js';
import { AlertsModule } from './alerts/alerts.module.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { ApiKeyVerdicts } from './auth/api-key.verdicts.js';
import { ApiKeyVerifier } from './auth/api-key.verifier.js';
import { BootstrapKeyService } from './auth/bootstrap-key.service.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { DecisionModule } from './decision/decision.module.js';
import { HealthController } from './health/health.controller.js';
import { ErrorFilter } from './http/error.filter.js';
import { createValidationPipe } from './http/validation.pipe.js';
import { ObservabilityModule } from './observability/observability.module.js';

@Module({})
export class AppModule {
  /** The whole service for one validated environment (main.ts and the end-to-end tests). */
  static forRoot(env: EnvironmentVariables): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(env),
        ObservabilityModule,
        LedgerModule,
        DecisionModule,
        AlertsModule,
        AdminModule,
      ],
      controllers: [HealthController, DashboardController],
      providers: [
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        ApiKeyVerifier,
        BootstrapKeyService,
        ApiKeyVerdicts,
      ],
    };
  }
}
