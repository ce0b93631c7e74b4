import { InvalidRequestError } from '#kernel';
import { PRINTABLE } from './admin.fields.js';

/** A path segment naming a row: 1–256 printable characters (percent-encoded in the path). */
export function checkName(kind: string, value: string): string {
  if (value.length < 1 || value.length > 256 || !PRINTABLE.test(value)) {
    throw new InvalidRequestError(`The ${kind} must be 1 to 256 printable characters.`);
  }
  return value;
}
