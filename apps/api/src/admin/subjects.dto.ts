import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsPrintableId, RowLimit } from './admin.fields.js';

/** PUT /v1/admin/subjects/{id}: replaces the row, so an absent parent means none. */
export class SubjectDto {
  @ApiProperty({ description: 'The tier whose limits apply to this subject.', example: 'standard' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  tier!: string;

  @ApiPropertyOptional({
    description:
      'The subject this one belongs to (a team, an org); null or absent: none. A parent that ' +
      'would make a cycle or a scope deeper than 4 levels is a 400.',
    type: 'string',
    nullable: true,
    example: 'team_42',
  })
  @IsOptional()
  @IsPrintableId(256)
  parent?: string | null;
}

/** GET /v1/admin/subjects: filters and keyset pagination by id. */
export class SubjectListQuery {
  @ApiPropertyOptional({ description: 'Only subjects of this tier.' })
  @IsOptional()
  @IsPrintableId(256)
  tier?: string;

  @ApiPropertyOptional({ description: 'Only the direct children of this subject.' })
  @IsOptional()
  @IsPrintableId(256)
  parent?: string;

  @ApiPropertyOptional({ description: 'The `next_cursor` of the previous page.' })
  @IsOptional()
  @IsPrintableId(256)
  cursor?: string;

  @RowLimit('Page size (default 100).', 1000)
  limit?: number;
}
