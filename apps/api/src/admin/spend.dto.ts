import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { IsPrintableId, RowLimit } from './admin.fields.js';

export const SPEND_GROUPS = ['subject', 'model', 'tier', 'caller', 'day'] as const;
export type SpendGroup = (typeof SPEND_GROUPS)[number];

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** GET /v1/admin/spend. */
export class SpendQuery {
  @ApiPropertyOptional({
    description: 'First UTC day, inclusive (default: the 1st of this month).',
    example: '2026-11-01',
  })
  @IsOptional()
  @Matches(DATE, { message: 'from must be a date YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ description: 'Last UTC day, inclusive (default: today).' })
  @IsOptional()
  @Matches(DATE, { message: 'to must be a date YYYY-MM-DD' })
  to?: string;

  @ApiPropertyOptional({ enum: SPEND_GROUPS, default: 'subject' })
  @IsOptional()
  @IsIn(SPEND_GROUPS)
  group_by?: SpendGroup;

  @ApiPropertyOptional({ description: 'Only the ledger rows of this subject.' })
  @IsOptional()
  @IsPrintableId(256)
  subject?: string;

  @RowLimit('Most rows (default 100).', 10_000)
  limit?: number;
}
