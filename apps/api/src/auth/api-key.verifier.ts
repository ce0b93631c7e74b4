import { ServiceUnavailableError, UnauthorizedError } from '#kernel';
import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiClientRepository, hashApiKey } from '#ledger';
import type { Caller } from './caller.js';

/** A key's verdict is cached this long, so a new or revoked key takes effect within 2 s. */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

interface Verdict {
  caller: Caller | null;
  checkedAt: number;
}

export type AuthenticatedRequest = FastifyRequest & { clientName?: string; caller?: Caller };

/** `Authorization: Bearer <key>` of an unrevoked caller: its client's name and role, or a 401. */
@Injectable()
export class ApiKeyVerifier {
  private readonly logger = new Logger(ApiKeyVerifier.name);
  private readonly verdicts = new Map<string, Verdict>();

  constructor(private readonly clients: ApiClientRepository) {}

  /** Sets request.clientName and request.caller, or throws the 401 (503 while a new key cannot be looked up). */
  async authenticate(request: AuthenticatedRequest): Promise<void> {
    if (request.clientName !== undefined) {
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new UnauthorizedError('missing');
    }
    const caller = await this.callerFor(match[1]!);
    if (caller === null) {
      throw new UnauthorizedError('unknown');
    }
    request.clientName = caller.name;
    request.caller = caller;
  }

  /** Cached by the key as sent (this process holds it anyway): no hash on a cache hit. */
  private async callerFor(key: string): Promise<Caller | null> {
    const cached = this.verdicts.get(key);
    const now = Date.now();
    if (cached && now - cached.checkedAt < CACHE_MS) {
      return cached.caller;
    }
    try {
      const client = await this.clients.findActiveByKeyHash(hashApiKey(key));
      const caller = client ? { name: client.name, role: client.role } : null;
      this.remember(key, { caller, checkedAt: now });
      return caller;
    } catch (error) {
      // Postgres unreachable: a key we knew keeps working, so checks go on (SPEC §7).
      if (cached) {
        this.logger.warn(`API key lookup failed, using the last verdict: ${String(error)}`);
        return cached.caller;
      }
      throw new ServiceUnavailableError(
        'The API key cannot be verified right now (database unreachable); retry shortly.',
      );
    }
  }

  private remember(key: string, verdict: Verdict): void {
    if (this.verdicts.size >= CACHE_MAX) {
      const oldest = this.verdicts.keys().next().value;
      if (oldest !== undefined) {
        this.verdicts.delete(oldest);
      }
    }
    this.verdicts.delete(key);
    this.verdicts.set(key, verdict);
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
