/** The body every error answers with: `{ error, message, ...details }` (SPEC §4). */
export interface ErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

/**
 * An error a caller can act on: a stable machine `code`, an HTTP status, a sentence, and details
 * that are spread into the error body `{ error, message, ...details }`. Throw one of the classes
 * of errors.ts, one per code, rather than this class itself.
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

  toBody(): ErrorBody {
    return { error: this.code, message: this.message, ...this.details };
  }
}

/** The base of an error class with a stable code and status (static, so OpenAPI can list them). */
export function coded<Code extends string>(code: Code, status: number) {
  return class extends DomainError {
    static readonly code: Code = code;
    static readonly status: number = status;

    constructor(message: string, details?: Record<string, unknown>) {
      super(code, message, status, details);
    }
  };
}
