import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  IsString,
  Min,
  ValidateNested,
} from 'class-validator';
import { ChatMessageDto, ToolDefinitionDto } from './chat.dto.js';
import { IsPrintableId, IsTokenCount, MAX_TOKENS } from './field.rules.js';

const ONE_INPUT = 'Exactly one of `messages`, `prompt` or `prompt_tokens` describes the input.';

/** What the inference will send: the input of /v1/check and /v1/estimate (SPEC §4). */
export class EstimateRequestDto {
  /** Whose budget is charged: 1–256 printable characters. */
  @ApiProperty({
    description: 'Whose budget is charged (an end user, a team, a key of your own users).',
    example: 'user_123',
    minLength: 1,
    maxLength: 256,
  })
  @IsPrintableId(256)
  subject!: string;

  @ApiProperty({
    description: 'A model of the `models` catalogue; one with no row (and no `*` row) is a 400.',
    example: 'gpt-4o',
    minLength: 1,
    maxLength: 128,
  })
  @IsPrintableId(128)
  model!: string;

  /** OpenAI chat messages; exactly one of messages, prompt, prompt_tokens. */
  @ApiPropertyOptional({
    description: `The prompt in OpenAI chat format, counted with the model's tokenizer. ${ONE_INPUT}`,
    type: () => ChatMessageDto,
    isArray: true,
    minItems: 1,
    maxItems: 4096,
    example: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello!' },
    ],
  })
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(4096)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages?: ChatMessageDto[];

  /** Tool definitions beside messages; counted by the cookbook's rule. */
  @ApiPropertyOptional({
    description: 'Tool definitions sent with `messages` (only beside `messages`); they count too.',
    type: () => ToolDefinitionDto,
    isArray: true,
    maxItems: 512,
  })
  @IsOptional()
  @ArrayMaxSize(512)
  @ValidateNested({ each: true })
  @Type(() => ToolDefinitionDto)
  tools?: ToolDefinitionDto[];

  @ApiPropertyOptional({
    description: `The prompt as one string, counted with the model's tokenizer. ${ONE_INPUT}`,
    example: 'Summarise this page',
  })
  @IsOptional()
  @IsString()
  prompt?: string;

  /** Tokens the caller already counted. */
  @ApiPropertyOptional({
    description: `Prompt tokens the caller already counted. ${ONE_INPUT}`,
    type: 'integer',
    minimum: 0,
    maximum: MAX_TOKENS,
    example: 1234,
  })
  @IsOptional()
  @IsTokenCount()
  prompt_tokens?: number;

  /** Completion estimate; absent, the model's default_max_tokens. */
  @ApiPropertyOptional({
    description: "Completion estimate; absent, the model's `default_max_tokens`.",
    type: 'integer',
    minimum: 1,
    maximum: MAX_TOKENS,
    example: 512,
  })
  @IsOptional()
  @IsTokenCount(1)
  max_tokens?: number;

  /** Alias of max_tokens (OpenAI's newer name). */
  @ApiPropertyOptional({
    description: "Alias of `max_tokens` (OpenAI's newer name); if both are given they must agree.",
    type: 'integer',
    minimum: 1,
    maximum: MAX_TOKENS,
    example: 512,
  })
  @IsOptional()
  @IsTokenCount(1)
  max_completion_tokens?: number;
}

export class CheckRequestDto extends EstimateRequestDto {
  /** Graceful degradation: accept as few as this many completion tokens. */
  @ApiPropertyOptional({
    description:
      'Graceful degradation: when the full estimate does not fit, grant the largest ' +
      '`granted_max_tokens` that does, at least this many (cap the inference there). ' +
      'At most the completion estimate.',
    type: 'integer',
    minimum: 1,
    maximum: MAX_TOKENS,
    example: 64,
  })
  @IsOptional()
  @IsTokenCount(1)
  min_max_tokens?: number;

  /** A retried check with the same key and subject returns the same reservation. */
  @ApiPropertyOptional({
    description: 'A retried check with the same key and subject returns the same reservation.',
    example: 'req-42',
    minLength: 1,
    maxLength: 256,
  })
  @IsOptional()
  @IsPrintableId(256)
  idempotency_key?: string;

  /** Reservation lifetime; 1..RESERVATION_TTL_MAX_SECONDS (checked against configuration). */
  @ApiPropertyOptional({
    description:
      'Reservation lifetime in seconds, from 1 to `RESERVATION_TTL_MAX_SECONDS` (3600 by ' +
      'default; larger is a 400, never clamped). Default `RESERVATION_TTL_SECONDS` (600).',
    type: 'integer',
    minimum: 1,
    example: 600,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  ttl_seconds?: number;
}
