import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  Equals,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
  registerDecorator,
  type ValidationArguments,
} from 'class-validator';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
const MAX_PARTS = 256;
const MAX_SCHEMA_DEPTH = 32;

export class FunctionCallDto {
  @ApiProperty({ description: 'The called function.', example: 'get_weather', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  name!: string;

  @ApiProperty({ description: 'Its arguments as a JSON string.', example: '{"city":"Paris"}' })
  @IsString()
  arguments!: string;
}

export class ToolCallDto {
  @ApiPropertyOptional({ example: 'call_abc123', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  id?: string;

  @ApiPropertyOptional({ enum: ['function'], example: 'function' })
  @IsOptional()
  @Equals('function')
  type?: 'function';

  @ApiProperty({ type: () => FunctionCallDto })
  @ValidateNested()
  @Type(() => FunctionCallDto)
  function!: FunctionCallDto;
}

export class FunctionDefinitionDto {
  @ApiProperty({ example: 'get_weather', maxLength: 256 })
  @IsString()
  @MaxLength(256)
  name!: string;

  @ApiPropertyOptional({ example: 'Current weather of a city.' })
  @IsOptional()
  @IsString()
  description?: string;

  @ApiPropertyOptional({
    description: `JSON Schema of the arguments; at most ${MAX_SCHEMA_DEPTH} levels deep.`,
    type: 'object',
    additionalProperties: true,
    example: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  })
  @IsOptional()
  @IsObject()
  @IsShallowerThan(MAX_SCHEMA_DEPTH)
  parameters?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'boolean' })
  @IsOptional()
  strict?: boolean;
}

export class ToolDefinitionDto {
  @ApiProperty({ enum: ['function'], example: 'function' })
  @Equals('function')
  type!: 'function';

  @ApiProperty({ type: () => FunctionDefinitionDto })
  @ValidateNested()
  @Type(() => FunctionDefinitionDto)
  function!: FunctionDefinitionDto;
}

export class ChatMessageDto {
  @ApiProperty({ enum: ROLES, example: 'user' })
  @IsIn(ROLES)
  role!: (typeof ROLES)[number];

  @ApiPropertyOptional({
    description:
      `A string, null, or at most ${MAX_PARTS} parts \`{"type":"text","text":...}\` or ` +
      '`{"type":"image_url","image_url":{"url":...,"detail":"low|high|auto"}}` ' +
      '(image width and height, when given, 1–100000).',
    oneOf: [{ type: 'string' }, { type: 'array', maxItems: MAX_PARTS, items: { type: 'object' } }],
    nullable: true,
    example: 'Hello!',
  })
  @IsOptional()
  @IsChatContent()
  content?: string | ContentPart[] | null;

  @ApiPropertyOptional({ example: 'alice', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  name?: string;

  @ApiPropertyOptional({ type: () => ToolCallDto, isArray: true, maxItems: 128 })
  @IsOptional()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolCallDto)
  tool_calls?: ToolCallDto[];

  @ApiPropertyOptional({ example: 'call_abc123', maxLength: 256 })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  tool_call_id?: string;
}

export type ContentPart =
  | { type: 'text'; text: string }
  | {
      type: 'image_url';
      image_url: { url: string; detail?: 'low' | 'high' | 'auto'; width?: number; height?: number };
    };

/** Content is a string, null, or a list of text and image parts (OpenAI chat format). */
function IsChatContent(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isChatContent',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) =>
          value === null || typeof value === 'string' || isPartList(value),
        defaultMessage: (args?: ValidationArguments) =>
          `${args?.property ?? 'content'} must be a string or an array of at most ${MAX_PARTS} parts ` +
          '{"type":"text","text":...} or {"type":"image_url","image_url":{"url":...}}',
      },
    });
}

function isPartList(value: unknown): boolean {
  return Array.isArray(value) && value.length <= MAX_PARTS && value.every(isPart);
}

function isPart(part: unknown): boolean {
  if (typeof part !== 'object' || part === null) {
    return false;
  }
  const { type, text, image_url: image, ...rest } = part as Record<string, unknown>;
  if (Object.keys(rest).length > 0) {
    return false;
  }
  if (type === 'text') {
    return typeof text === 'string' && image === undefined;
  }
  if (type !== 'image_url' || text !== undefined || typeof image !== 'object' || image === null) {
    return false;
  }
  const { url, detail, width, height, ...extra } = image as Record<string, unknown>;
  return (
    Object.keys(extra).length === 0 &&
    typeof url === 'string' &&
    (detail === undefined || detail === 'low' || detail === 'high' || detail === 'auto') &&
    (width === undefined || isDimension(width)) &&
    (height === undefined || isDimension(height))
  );
}

function isDimension(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 100_000;
}

/** Refuses absurdly nested JSON (a tool's parameters schema is free-form otherwise). */
function IsShallowerThan(maxDepth: number): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isShallowerThan',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => depth(value, maxDepth + 1) <= maxDepth,
        defaultMessage: () => `parameters must not nest deeper than ${maxDepth} levels`,
      },
    });
}

function depth(value: unknown, cap: number): number {
  if (typeof value !== 'object' || value === null || cap <= 0) {
    return 0;
  }
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depth(child, cap - 1));
    if (deepest >= cap) {
      break;
    }
  }
  return deepest + 1;
}
