import { InvalidRequestError } from '#kernel';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../auth/caller.js';
import { ApiAdmin, ApiAdminRoutes, ApiCsv } from './admin.openapi.js';
import { AlertsService } from './alerts.service.js';
import { OverviewService } from './overview.service.js';
import { SpendQuery } from './spend.dto.js';
import { type SpendReport, SpendService, spendCsv } from './spend.service.js';

/** Reports: spend from the ledger, and this instance's refusals and modes. */
@ApiAdminRoutes('admin')
@AdminOnly()
@Controller('v1/admin')
export class SpendController {
  constructor(
    private readonly spend: SpendService,
    private readonly overview: OverviewService,
    private readonly alerts: AlertsService,
  ) {}

  @ApiAdmin({
    summary: 'Budget alerts raised since a time (default: the last 7 days), newest first',
    description:
      'Each with its webhook delivery state: `delivered`, `retrying` (attempts failed so far) or ' +
      '`pending`.',
    ok: [200, 'AdminAlert', 'array'],
    errors: [[400, '`invalid_request`: since is not a date.']],
  })
  @ApiQuery({ name: 'since', required: false, example: '2026-11-01T00:00:00Z' })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @Get('alerts')
  async listAlerts(
    @Query('since') since: string | undefined,
    @Query('limit') limit: string | undefined,
  ): Promise<{ alerts: unknown[] }> {
    const rows = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(rows) || rows < 1 || rows > 1000) {
      throw new InvalidRequestError('limit must be a whole number from 1 to 1000.');
    }
    return { alerts: await this.alerts.list(since, rows) };
  }

  @ApiAdmin({
    summary: 'Spend by subject, model, tier, caller or UTC day, sorted by cost',
    description:
      'Exact sums of the ledger (settled_at between from and to, inclusive UTC days). ' +
      '`Accept: text/csv` answers CSV with the columns key,cost_usd,requests,prompt_tokens,' +
      'completion_tokens,cached_tokens.',
    ok: [200, 'SpendReport'],
    errors: [[400, '`invalid_request`: bad date, group_by or limit.']],
  })
  @ApiCsv()
  @Get('spend')
  async report(
    @Query() query: SpendQuery,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SpendReport | string> {
    const report = await this.spend.report(query);
    if (accept !== undefined && /\btext\/csv\b/i.test(accept)) {
      void reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="spend-${report.group_by}-${report.from}-${report.to}.csv"`,
        );
      return spendCsv(report.rows);
    }
    return report;
  }

  @ApiAdmin({
    summary: "Refusals of the last hour by dimension (this instance's metrics) and the modes",
    ok: [200, 'AdminOverview'],
  })
  @Get('overview')
  status(): Promise<Record<string, unknown>> {
    return this.overview.overview();
  }
}
