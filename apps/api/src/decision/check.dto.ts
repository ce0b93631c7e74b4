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
import { IsPrintableId, IsTokenCount } from './field.rules.js';

/** What the inference will send: the input of /v1/check and /v1/estimate (SPEC §4). */
export class EstimateRequestDto {
  /** Whose budget is charged: 1–256 printable characters. */
  @IsPrintableId(256) subject!: string;

  @IsPrintableId(128) model!: string;

  /** OpenAI chat messages; exactly one of messages, prompt, prompt_tokens. */
  @IsOptional()
  @ArrayMinSize(1)
  @ArrayMaxSize(4096)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages?: ChatMessageDto[];

  /** Tool definitions beside messages; counted by the cookbook's rule. */
  @IsOptional()
  @ArrayMaxSize(512)
  @ValidateNested({ each: true })
  @Type(() => ToolDefinitionDto)
  tools?: ToolDefinitionDto[];

  @IsOptional() @IsString() prompt?: string;

  /** Tokens the caller already counted. */
  @IsOptional() @IsTokenCount() prompt_tokens?: number;

  /** Completion estimate; absent, the model's default_max_tokens. */
  @IsOptional() @IsTokenCount(1) max_tokens?: number;

  /** Alias of max_tokens (OpenAI's newer name). */
  @IsOptional() @IsTokenCount(1) max_completion_tokens?: number;
}

export class CheckRequestDto extends EstimateRequestDto {
  /** Graceful degradation: accept as few as this many completion tokens. */
  @IsOptional() @IsTokenCount(1) min_max_tokens?: number;

  /** A retried check with the same key and subject returns the same reservation. */
  @IsOptional() @IsPrintableId(256) idempotency_key?: string;

  /** Reservation lifetime; 1..RESERVATION_TTL_MAX_SECONDS (checked against configuration). */
  @IsOptional() @IsInt() @Min(1) ttl_seconds?: number;
}
