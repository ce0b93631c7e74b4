import { Controller, Get, HttpCode, type OnApplicationShutdown, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { AppConfig } from '#config';
import { BudgetStore } from '#budget';
import { Public } from '../auth/public.decorator.js';
import { ApiHealthRoutes, ApiLiveness, ApiReadiness } from './health.openapi.js';

type Check = 'up' | 'down';

/** How checks are decided while Redis answers, in either store. */
const SHARED = new Set(['redis', 'memory']);

@ApiHealthRoutes()
@Public()
@Controller()
export class HealthController implements OnApplicationShutdown {
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly store: BudgetStore,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /** Liveness: touches no dependency. */
  @ApiLiveness()
  @Get('healthz')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness (SPEC §4): 200 while this instance can decide checks — "ok" on the shared store
   * with Postgres up, "degraded" in a fallback (Redis down in local or open mode, or Postgres
   * down); 503 only when it cannot (Redis down in closed mode, shutting down). The store's ping
   * also brings decisions back to Redis once it answers, so "ok" is never said while checks are
   * still decided in the fallback.
   */
  @ApiReadiness()
  @Get('readyz')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const [store, database] = await Promise.all([
      probe(() => this.store.ping()),
      probe(() => this.dataSource.query('SELECT 1')),
    ]);
    const decisions = this.store.activeMode;
    const onShared = store === 'up' && SHARED.has(decisions);
    const decides =
      !this.stopping && (onShared || this.config.get('REDIS_FAILURE_MODE') !== 'closed');
    const status = !decides ? 'not_ready' : onShared && database === 'up' ? 'ok' : 'degraded';
    void reply.status(decides ? 200 : 503);
    return {
      status,
      checks: { store, database },
      modes: {
        store: this.store.mode,
        decisions,
        database: this.config.embeddedDatabase ? 'embedded' : 'postgres',
        redis_failure_mode: this.config.get('REDIS_FAILURE_MODE'),
        expired_reservation_policy: this.config.get('EXPIRED_RESERVATION_POLICY'),
      },
    };
  }
}

async function probe(call: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      call(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 1000);
      }),
    ]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}
