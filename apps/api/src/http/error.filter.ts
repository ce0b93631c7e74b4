import {
  DomainError,
  type ErrorBody,
  InvalidJsonError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
} from '#kernel';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contractFault } from './contract.kit.js';

/** Fastify's own request faults, answered with our error classes instead of Fastify's body. */
const FASTIFY_CODES: Record<string, () => DomainError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new PayloadTooLargeError(),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new UnsupportedMediaTypeError(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new InvalidJsonError('empty'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new InvalidJsonError('not_json'),
};

const HTTP_CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limit_exceeded',
  503: 'service_unavailable',
};

/** Turns anything thrown into the SPEC error body `{ error, message, ...details }`. */
export function toErrorBody(exception: unknown): { status: number; body: ErrorBody } {
  if (exception instanceof DomainError) {
    return { status: exception.status, body: exception.toBody() };
  }
  // Nest wraps Fastify's own errors in an HttpException whose cause keeps Fastify's code.
  const source =
    exception instanceof HttpException && exception.cause ? exception.cause : exception;
  const fastifyCode = (source as { code?: unknown } | null)?.code;
  if (typeof fastifyCode === 'string' && fastifyCode in FASTIFY_CODES) {
    const known = FASTIFY_CODES[fastifyCode]!();
    return { status: known.status, body: known.toBody() };
  }
  if (exception instanceof SyntaxError) {
    return { status: 400, body: new InvalidJsonError('not_json').toBody() };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : String((response as { message?: unknown }).message ?? exception.message);
    return {
      status,
      body: {
        error: HTTP_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request'),
        message,
      },
    };
  }
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      status,
      body: {
        error: HTTP_CODES[status] ?? 'bad_request',
        message: String((exception as Error).message),
      },
    };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: { error: 'internal_error', message: 'An unexpected error occurred; it has been logged.' },
  };
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    // A body refused by its route's schema (Fastify's validation, wrapped by Nest).
    const source =
      exception instanceof HttpException && exception.cause ? exception.cause : exception;
    const { status, body } = toErrorBody(
      contractFault(source, http.getRequest<FastifyRequest | undefined>()) ?? exception,
    );
    if (status >= 500) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    }
    const reply = http.getResponse<FastifyReply>();
    void reply.status(status).send(body);
  }
}
