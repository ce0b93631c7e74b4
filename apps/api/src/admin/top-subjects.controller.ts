import { Controller, Get, Query } from '@nestjs/common';
import { AdminOnly } from '../auth/caller.js';
import { ApiAdmin, ApiAdminRoutes } from './admin.openapi.js';
import { TopSubjectsQuery } from './top-subjects.dto.js';
import { type TopSubjects, TopSubjectsService } from './top-subjects.service.js';

/** The subjects that spend most, with their live limits and in-flight reservations. */
@ApiAdminRoutes('admin')
@AdminOnly()
@Controller('v1/admin')
export class TopSubjectsController {
  constructor(private readonly topSubjects: TopSubjectsService) {}

  @ApiAdmin({
    summary: 'The subjects that spent most today or this month, with limits and in-flight',
    description:
      'Spend from the ledger (exact, as /v1/admin/spend?group_by=subject); tier, live limits ' +
      'and in-flight reservations from the store, as /v1/subjects/{id}/usage shows them.',
    ok: [200, 'AdminTopSubjects'],
    errors: [[400, '`invalid_request`: bad period or limit.']],
  })
  @Get('top-subjects')
  top(@Query() query: TopSubjectsQuery): Promise<TopSubjects> {
    return this.topSubjects.top(query);
  }
}
