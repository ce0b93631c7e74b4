import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { IsPrintableId, IsTokenCount, MAX_TOKENS } from './field.rules.js';

const RESERVATION_ID = {
  description: 'The `reservation_id` answered by /v1/check.',
  example: 'rsv_01JDQ6Z8W3K9V2N4M7P5X1C0BA',
  minLength: 1,
  maxLength: 512,
};

const tokens = (description: string, example: number) => ({
  description,
  type: 'integer' as const,
  minimum: 0,
  maximum: MAX_TOKENS,
  example,
});

export class CommitUsageDto {
  /** Absent: the prompt tokens counted at check time. */
  @ApiPropertyOptional(tokens('Real prompt tokens; absent, the count made at check time.', 1200))
  @IsOptional()
  @IsTokenCount()
  prompt_tokens?: number;

  /** Absent: give `completion` text instead and the service counts it. */
  @ApiPropertyOptional(
    tokens('Real completion tokens; absent, give `completion` (the text) instead.', 300),
  )
  @IsOptional()
  @IsTokenCount()
  completion_tokens?: number;
}

export class RefundUsageDto {
  @ApiProperty(tokens('Prompt tokens to charge.', 1200))
  @IsTokenCount()
  prompt_tokens!: number;

  @ApiProperty(tokens('Completion tokens to charge.', 40))
  @IsTokenCount()
  completion_tokens!: number;
}

export class CommitRequestDto {
  @ApiProperty(RESERVATION_ID)
  @IsPrintableId(512)
  reservation_id!: string;

  @ApiPropertyOptional({
    description: 'The real usage reported by the upstream.',
    type: () => CommitUsageDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => CommitUsageDto)
  usage?: CommitUsageDto;

  /** The generated text, when the upstream reported no usage. */
  @ApiPropertyOptional({
    description:
      'The generated text, when the upstream reported no usage: the service counts it. ' +
      'Give exactly one of `usage.completion_tokens` or `completion`.',
    example: 'Hello! How can I help?',
  })
  @IsOptional()
  @IsString()
  completion?: string;
}

export class RefundRequestDto {
  @ApiProperty(RESERVATION_ID)
  @IsPrintableId(512)
  reservation_id!: string;

  /** Partial usage to charge; absent, everything reserved goes back. */
  @ApiPropertyOptional({
    description:
      'Partial usage to charge; absent, everything reserved goes back (a zero-cost refund).',
    type: () => RefundUsageDto,
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => RefundUsageDto)
  usage?: RefundUsageDto;

  @ApiPropertyOptional({
    description: 'Why the inference failed (free text, for your records).',
    example: 'upstream_error',
    minLength: 1,
    maxLength: 256,
  })
  @IsOptional()
  @IsPrintableId(256)
  reason?: string;
}
