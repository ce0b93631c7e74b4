import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

const INT4_MAX = 2_147_483_647;

/** A non-negative USD amount: at most 12 whole and 6 fractional digits, kept as exact text. */
export const USD = /^\d{1,12}(\.\d{1,6})?$/;

/** A per-minute or count limit: a positive int, or null / absent for unlimited. */
export function OptionalLimit(description: string, example: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: `${description} null or absent: unlimited.`,
      type: 'integer',
      minimum: 1,
      maximum: INT4_MAX,
      nullable: true,
      example,
    }),
    IsOptional(),
    IsInt(),
    Min(1),
    Max(INT4_MAX),
  );
}

/** A query's optional `limit`: a whole number from 1 to `max` (query strings are text). */
export function RowLimit(description: string, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, minimum: 1, maximum: max }),
    IsOptional(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(max),
  );
}

/** A decimal USD amount given as a string ("12.5") or a JSON number (12.5); kept as text. */
export function UsdAmount(
  description: string,
  example: string,
  optional: boolean,
): PropertyDecorator {
  return applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      description,
      type: 'string',
      pattern: USD.source,
      nullable: optional,
      example,
    }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'number' ? String(value) : value,
    ),
    ...(optional ? [IsOptional()] : []),
    IsString(),
    Matches(USD, {
      message: '$property must be a non-negative USD amount with at most 6 decimals, e.g. "12.5"',
    }),
  );
}

/** Optional fields given as null mean "unlimited"; absent ones too (PUT replaces the row). */
export const orNull = <T>(value: T | undefined): T | null => value ?? null;

/** Printable text: no control characters (Unicode category Cc: C0, DEL and C1). */
export const PRINTABLE = /^\P{Cc}*$/u;

/** A query or body string naming a row: 1–maxLength printable characters. */
export function IsPrintableId(maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MinLength(1),
    MaxLength(maxLength),
    Matches(PRINTABLE, { message: '$property must not contain control characters' }),
  );
}
