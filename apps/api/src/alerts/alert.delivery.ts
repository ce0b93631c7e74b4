import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '#config';
import { BudgetAlertRepository, LedgerWriter } from '#ledger';
import { MetricsService } from '../observability/metrics.service.js';
import { AlertDispatcher } from './alert.dispatcher.js';

/**
 * Budget alerts in the running service: counts the alerts this instance's ledger writes raise
 * and, when ALERT_WEBHOOK_URL is set, runs the dispatcher from start to shutdown. Without a URL
 * alerts are only recorded in budget_alerts.
 */
@Injectable()
export class AlertDelivery implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertDelivery.name);
  private readonly dispatcher: AlertDispatcher | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    config: AppConfig,
    repository: BudgetAlertRepository,
    private readonly writer: LedgerWriter,
    private readonly metrics: MetricsService,
  ) {
    const url = config.get('ALERT_WEBHOOK_URL');
    const secret = config.get('ALERT_WEBHOOK_SECRET');
    if (url !== undefined && secret !== undefined) {
      this.dispatcher = new AlertDispatcher(repository, {
        url,
        secret,
        timeoutMs: config.get('ALERT_WEBHOOK_TIMEOUT_MS'),
        retryBaseMs: config.get('ALERT_RETRY_BASE_MS'),
        retryMaxMs: config.get('ALERT_RETRY_MAX_MS'),
        pollMs: config.get('ALERT_POLL_MS'),
      });
    }
  }

  onApplicationBootstrap(): void {
    this.unsubscribe.push(
      this.writer.onAlertsRaised((count) => {
        this.metrics.alertsRaised.inc(count);
        this.dispatcher?.poke();
      }),
    );
    if (this.dispatcher !== undefined) {
      this.unsubscribe.push(
        this.dispatcher.onDelivered((count) => this.metrics.alertsDelivered.inc(count)),
      );
      this.dispatcher.start();
      this.logger.log('Budget alerts are posted to ALERT_WEBHOOK_URL');
    }
  }

  // Shutdown hooks run from the app module inwards: this module sits beside the ledger's, before
  // TypeORM's, so the pool is still open to record the attempts it aborts.
  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher?.stop();
    for (const unsubscribe of this.unsubscribe.splice(0)) {
      unsubscribe();
    }
  }
}
