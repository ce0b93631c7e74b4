import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

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

  @ApiPropertyOptional({ description: 'Most subjects (default 10).', minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}
