import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { AppConfig } from '#config';
import { BudgetStore } from '#budget';
import { Public } from '../auth/public.decorator.js';
import { ApiHealthRoutes, ApiLiveness, ApiReadiness } from './health.openapi.js';

type Check = 'up' | 'down';

@ApiHealthRoutes()
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly config: AppConfig,
    private readonly store: BudgetStore,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Liveness: touches no dependency. */
  @ApiLiveness()
  @Get('healthz')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Redis (or the in-process store) and Postgres reachable, and the active modes. */
  @ApiReadiness()
  @Get('readyz')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const [store, database] = await Promise.all([
      probe(() => this.store.ping()),
      probe(() => this.dataSource.query('SELECT 1')),
    ]);
    const ready = store === 'up' && database === 'up';
    void reply.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'not_ready',
      checks: { store, database },
      modes: {
        store: this.store.mode,
        decisions: this.store.activeMode,
        database: this.config.embeddedDatabase ? 'embedded' : 'postgres',
        redis_failure_mode: this.config.get('REDIS_FAILURE_MODE'),
        expired_reservation_policy: this.config.get('EXPIRED_RESERVATION_POLICY'),
      },
    };
  }
}

async function probe(call: () => Promise<unknown>): Promise<Check> {
  try {
    await Promise.race([
      call(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
    ]);
    return 'up';
  } catch {
    return 'down';
  }
}
