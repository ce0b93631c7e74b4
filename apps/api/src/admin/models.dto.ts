import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { ENCODINGS } from '#tokenizer';
import { UsdAmount } from './admin.fields.js';

/** PUT /v1/admin/models/{name}: the whole model row. */
export class ModelDto {
  @ApiPropertyOptional({
    description: 'The tiktoken encoding that counts its tokens; absent: chosen by model family.',
    enum: ENCODINGS,
    nullable: true,
    example: 'o200k_base',
  })
  @IsOptional()
  @IsIn(ENCODINGS)
  encoding?: string | null;

  @UsdAmount('Price of a million input tokens, USD.', '2.5', false)
  input_usd_per_mtok!: string;

  @UsdAmount(
    'Price of a million cached input tokens, USD; null or absent: priced as any input token.',
    '1.25',
    true,
  )
  cached_input_usd_per_mtok?: string | null;

  @UsdAmount('Price of a million output tokens, USD.', '10', false)
  output_usd_per_mtok!: string;

  @ApiProperty({
    description: 'Completion estimate when a check gives no max_tokens.',
    type: 'integer',
    minimum: 1,
    maximum: 10_000_000,
    example: 4096,
  })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  default_max_tokens!: number;

  @ApiPropertyOptional({
    description: 'Counted tokens are multiplied by this (approximating encodings); default 1.',
    type: 'string',
    example: '1.2',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value))
  @IsOptional()
  @IsString()
  @Matches(/^(?!0+(\.0+)?$)\d{1,3}(\.\d{1,6})?$/, {
    message: 'token_multiplier must be a positive decimal with at most 6 decimals, e.g. "1.2"',
  })
  token_multiplier?: string;
}
