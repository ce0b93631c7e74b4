import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import {
  type DomainError,
  HeadersTooLargeError,
  InvalidUrlError,
  MalformedUnicodeError,
  UriTooLongError,
} from '#kernel';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

/**
 * What the Fastify instance itself refuses before any route runs, so every route (Nest's or
 * plain Fastify's) keeps SPEC §4 and §7: JSON bodies only, well-formed Unicode only, and the
 * framework's own faults answered with the error body `{ error, message }`.
 */

/** Fastify options: URL faults (bad escapes, over-long ids) and socket-level faults. */
export const FRAMEWORK_ERROR_OPTIONS: Pick<
  FastifyServerOptions,
  'frameworkErrors' | 'clientErrorHandler'
> = {
  frameworkErrors: (error: Error & { code?: string }, request, reply: FastifyReply) => {
    const refusal =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new UriTooLongError()
        : error.code === 'FST_ERR_BAD_URL'
          ? new InvalidUrlError((request as FastifyRequest).url)
          : undefined;
    if (refusal) {
      void reply.code(refusal.status).send(refusal.toBody());
    } else {
      void reply.code(400).send({ error: 'invalid_request', message: error.message });
    }
  },
  clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      return;
    }
    const refusal: { status: number; text: string; body: object } =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? answer(new HeadersTooLargeError(), 'Request Header Fields Too Large')
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? {
              status: 408,
              text: 'Request Timeout',
              body: { error: 'request_timeout', message: 'The request took too long to arrive.' },
            }
          : {
              status: 400,
              text: 'Bad Request',
              body: { error: 'invalid_request', message: 'The HTTP request is malformed.' },
            };
    if (socket.writable) {
      const body = JSON.stringify(refusal.body);
      socket.write(
        `HTTP/1.1 ${refusal.status} ${refusal.text}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  },
};

function answer(error: DomainError, text: string) {
  return { status: error.status, text, body: error.toBody() };
}

/**
 * The only body parser: JSON as well-formed UTF-8, parsed by Fastify's own (prototype-poisoning
 * safe) parser, and refused when a string in it holds an unpaired surrogate (`"\ud800"`), which
 * would otherwise be stored as U+FFFD and merge ids. Every other content type is a 415.
 */
export function acceptJsonOnly(instance: FastifyInstance): void {
  const parse = instance.getDefaultJsonParser('error', 'error');
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    (request, body: Buffer, done) => {
      if (!isUtf8(body)) {
        done(new MalformedUnicodeError('body'), undefined);
        return;
      }
      const text = body.toString('utf8');
      void parse(request, text, (error, value) => {
        if (error) {
          done(error, undefined);
        } else if (SURROGATE_ESCAPE.test(text) && !wellFormed(value)) {
          done(new MalformedUnicodeError('body'), undefined);
        } else {
          done(null, value);
        }
      });
    },
  );
}

/** A `\uD800`–`\uDFFF` escape: only then can a parsed string hold a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** With the u flag a surrogate pair is one code point: this matches unpaired halves only. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Every string and key of a parsed body is well-formed (iterative: bodies may nest deep). */
function wellFormed(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) {
        return false;
      }
    } else if (Array.isArray(value)) {
      stack.push(...value);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        stack.push(key, item);
      }
    }
  }
  return true;
}
