import { ServiceUnavailableError, UnauthorizedError } from '#kernel';
import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiClientRepository, hashApiKey } from '#ledger';

/** A key's verdict is cached this long, so a new or revoked key takes effect within 2 s. */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

interface Verdict {
  clientName: string | null;
  checkedAt: number;
}

export type AuthenticatedRequest = FastifyRequest & { clientName?: string };

/** `Authorization: Bearer <key>` of an unrevoked caller: its client's name, or a 401. */
@Injectable()
export class ApiKeyVerifier {
  private readonly logger = new Logger(ApiKeyVerifier.name);
  private readonly verdicts = new Map<string, Verdict>();
  private readonly lookups = new Map<string, Promise<string | null>>();

  constructor(private readonly clients: ApiClientRepository) {}

  /** Sets request.clientName, or throws the 401 (503 while a new key cannot be looked up). */
  async authenticate(request: AuthenticatedRequest): Promise<void> {
    if (request.clientName !== undefined) {
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new UnauthorizedError('missing');
    }
    const clientName = await this.clientNameFor(match[1]!);
    if (clientName === null) {
      throw new UnauthorizedError('unknown');
    }
    request.clientName = clientName;
  }

  /**
   * The synchronous path of authenticate(): true when the request carries a key whose verdict
   * is cached, fresh and known (request.clientName is then set); false when authenticate() must
   * decide. No promise per request on the hot path.
   */
  authenticateFromCache(request: AuthenticatedRequest): boolean {
    if (request.clientName !== undefined) {
      return true;
    }
    const key = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    const cached = key === undefined ? undefined : this.verdicts.get(key);
    if (
      cached === undefined ||
      cached.clientName === null ||
      Date.now() - cached.checkedAt >= CACHE_MS
    ) {
      return false;
    }
    request.clientName = cached.clientName;
    return true;
  }

  /** Cached by the key as sent (this process holds it anyway): no hash on a cache hit. */
  private async clientNameFor(key: string): Promise<string | null> {
    const cached = this.verdicts.get(key);
    const now = Date.now();
    if (cached && now - cached.checkedAt < CACHE_MS) {
      return cached.clientName;
    }
    // One lookup per key at a time: the requests that miss together share it.
    let lookup = this.lookups.get(key);
    if (lookup === undefined) {
      lookup = this.lookUp(key, cached, now).finally(() => this.lookups.delete(key));
      this.lookups.set(key, lookup);
    }
    return lookup;
  }

  private async lookUp(
    key: string,
    cached: Verdict | undefined,
    now: number,
  ): Promise<string | null> {
    try {
      const client = await this.clients.findActiveByKeyHash(hashApiKey(key));
      this.remember(key, { clientName: client?.name ?? null, checkedAt: now });
      return client?.name ?? null;
    } catch (error) {
      // Postgres unreachable: a key we knew keeps working, so checks go on (SPEC §7).
      if (cached) {
        this.logger.warn(`API key lookup failed, using the last verdict: ${String(error)}`);
        return cached.clientName;
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
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (
      request.routeOptions.schema?.body === undefined ||
      verifier.authenticateFromCache(request)
    ) {
      done();
      return;
    }
    verifier.authenticate(request).then(() => done(), done);
  });
}
