import { Global, Module } from '@nestjs/common';
import { LoggingModule } from './logging.module.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** Logs and metrics, available to every module. */
@Global()
@Module({
  imports: [LoggingModule],
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
