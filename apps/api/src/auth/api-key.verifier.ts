import { ServiceUnavailableError, UnauthorizedError } from '#kernel';
import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiKeyVerdicts } from './api-key.verdicts.js';
import type { Caller } from './caller.js';

export type AuthenticatedRequest = FastifyRequest & { clientName?: string; caller?: Caller };

/** `Authorization: Bearer <key>` of an unrevoked caller: its client's name, or a 401. */
@Injectable()
export class ApiKeyVerifier {
  constructor(private readonly verdicts: ApiKeyVerdicts) {}

  /** Sets request.clientName, or throws the 401 (503 while a new key cannot be looked up). */
  async authenticate(request: AuthenticatedRequest): Promise<void> {
    if (request.clientName !== undefined) {
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new UnauthorizedError('missing');
    }
    // Judged from the key verdicts read in the background: no request waits on Postgres.
    const verdict = await this.verdicts.verdict(match[1]!);
    if (verdict.client === null) {
      if (verdict.reason === 'unverifiable') {
        throw new ServiceUnavailableError(
          'The API key cannot be verified right now (database unreachable); retry shortly.',
        );
      }
      throw new UnauthorizedError('unknown');
    }
    request.clientName = verdict.client.name;
    request.caller = { name: verdict.client.name, role: verdict.client.role };
  }
}

/**
 * Routes whose body has a contract schema are authenticated before Fastify validates the body:
 * a caller without a key learns nothing about the body's rules (401 before any 400). The guard
 * then finds request.clientName set.
 */
export function authenticateBeforeValidation(
  fastify: FastifyInstance,
  verifier: ApiKeyVerifier,
): void {
  fastify.addHook('preValidation', async (request) => {
    if (request.routeOptions.schema?.body !== undefined) {
      await verifier.authenticate(request);
    }
  });
}
