/**
 * An error a caller can act on: a stable machine `code`, an HTTP status, a sentence, and details
 * that are spread into the error body `{ error, message, ...details }`.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}
