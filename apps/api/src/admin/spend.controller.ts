import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdminOnly } from '../auth/caller.js';
import { ApiAdmin, ApiAdminRoutes, ApiCsv } from './admin.openapi.js';
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
  ) {}

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
