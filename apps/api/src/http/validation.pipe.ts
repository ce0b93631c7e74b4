import { InvalidRequestError } from '#kernel';
import { ValidationPipe, type ValidationError } from '@nestjs/common';

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((text) =>
      text.startsWith(error.property) ? `${parent ? `${parent}.` : ''}${text}` : `${path}: ${text}`,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/** Whitelisting validation whose failures speak the SPEC error body (code `invalid_request`). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new InvalidRequestError(`Invalid request: ${problems.join('; ')}.`, { problems });
    },
  });
}
