import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { RowLimit } from './admin.fields.js';

export const TOP_PERIODS = ['day', 'month'] as const;
export type TopPeriod = (typeof TOP_PERIODS)[number];

/** GET /v1/admin/top-subjects. */
export class TopSubjectsQuery {
  @ApiPropertyOptional({
    enum: TOP_PERIODS,
    default: 'month',
    description: 'Rank by the spend of this UTC day or of this UTC calendar month.',
  })
  @IsOptional()
  @IsIn(TOP_PERIODS)
  period?: TopPeriod;

  @RowLimit('Most subjects (default 10).', 100)
  limit?: number;
}
