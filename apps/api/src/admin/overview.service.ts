import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AppConfig } from '#config';
import { BudgetStore, DIMENSIONS } from '#budget';
import { MetricsService } from '../observability/metrics.service.js';

const SAMPLE_MS = 60_000;
const WINDOW_MS = 3_600_000;

interface Sample {
  at: number;
  byDimension: Map<string, number>;
}

/**
 * Refusals of the last hour by dimension, from this instance's decision counter: a sample of the
 * counter every minute, and the difference between now and the sample an hour old (or the start
 * of the process, when it is younger). The modes are those /readyz shows, the default tier, and
 * whether budget alerts have a webhook to be sent to.
 */
@Injectable()
export class OverviewService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly store: BudgetStore,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.samples.push({ at: Date.now(), byDimension: new Map() });
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async overview(): Promise<Record<string, unknown>> {
    const now = await this.refusals();
    const base =
      this.samples.find((s) => s.at >= Date.now() - WINDOW_MS - SAMPLE_MS) ?? this.samples[0]!;
    const refusals = Object.fromEntries(
      DIMENSIONS.map((dimension) => [
        dimension,
        Math.max(0, (now.get(dimension) ?? 0) - (base.byDimension.get(dimension) ?? 0)),
      ]),
    );
    return {
      refusals_last_hour: {
        since: new Date(base.at).toISOString(),
        scope: 'this instance',
        by_dimension: refusals,
        total: Object.values(refusals).reduce((a, b) => a + b, 0),
      },
      modes: {
        store: this.store.mode,
        decisions: this.store.activeMode,
        database: this.config.embeddedDatabase ? 'embedded' : 'postgres',
        redis_failure_mode: this.config.get('REDIS_FAILURE_MODE'),
        expired_reservation_policy: this.config.get('EXPIRED_RESERVATION_POLICY'),
        default_tier: this.config.get('DEFAULT_TIER'),
        alert_webhook: this.config.get('ALERT_WEBHOOK_URL') === undefined ? 'none' : 'configured',
      },
    };
  }

  private async sample(): Promise<void> {
    this.samples.push({ at: Date.now(), byDimension: await this.refusals() });
    while (
      this.samples.length > 0 &&
      this.samples[0]!.at < Date.now() - WINDOW_MS - 2 * SAMPLE_MS
    ) {
      this.samples.shift();
    }
  }

  /** Refused checks so far, by dimension (exceeds_capacity counts as a refusal too). */
  private async refusals(): Promise<Map<string, number>> {
    const { values } = await this.metrics.decisions.get();
    const totals = new Map<string, number>();
    for (const { labels, value } of values) {
      if (labels.outcome === 'refused' || labels.outcome === 'exceeds_capacity') {
        const dimension = String(labels.dimension);
        totals.set(dimension, (totals.get(dimension) ?? 0) + value);
      }
    }
    return totals;
  }
}
