import { Type } from 'class-transformer';
import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { IsPrintableId, IsTokenCount } from './field.rules.js';

export class CommitUsageDto {
  /** Absent: the prompt tokens counted at check time. */
  @IsOptional() @IsTokenCount() prompt_tokens?: number;
  /** Absent: give `completion` text instead and the service counts it. */
  @IsOptional() @IsTokenCount() completion_tokens?: number;
}

export class RefundUsageDto {
  @IsTokenCount() prompt_tokens!: number;
  @IsTokenCount() completion_tokens!: number;
}

export class CommitRequestDto {
  @IsPrintableId(512) reservation_id!: string;
  @IsOptional() @ValidateNested() @Type(() => CommitUsageDto) usage?: CommitUsageDto;
  /** The generated text, when the upstream reported no usage. */
  @IsOptional() @IsString() completion?: string;
}

export class RefundRequestDto {
  @IsPrintableId(512) reservation_id!: string;
  /** Partial usage to charge; absent, everything reserved goes back. */
  @IsOptional() @ValidateNested() @Type(() => RefundUsageDto) usage?: RefundUsageDto;
  @IsOptional() @IsPrintableId(256) reason?: string;
}
