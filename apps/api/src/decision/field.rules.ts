import { applyDecorators } from '@nestjs/common';
import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

/** The largest token count accepted anywhere: keeps every cost product exact in doubles. */
export const MAX_TOKENS = 10_000_000;

/** Printable text: no control characters (Unicode category Cc: C0, DEL and C1). */
export const PRINTABLE = /^\P{Cc}*$/u;

export function IsPrintableId(maxLength: number): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MinLength(1),
    MaxLength(maxLength),
    Matches(PRINTABLE, { message: '$property must not contain control characters' }),
  );
}

export function IsTokenCount(min = 0): PropertyDecorator {
  return applyDecorators(IsInt(), Min(min), Max(MAX_TOKENS));
}
