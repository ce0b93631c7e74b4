import { DomainError } from '#kernel';
import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiClientRepository, hashApiKey } from '#ledger';
import { ADMIN_ONLY, type Caller } from './caller.js';
import { IS_PUBLIC } from './public.decorator.js';

/** A key's verdict is cached this long, so a new or revoked key takes effect within 2 s. */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

interface Verdict {
  caller: Caller | null;
  checkedAt: number;
}

/**
 * Every route needs `Authorization: Bearer <key>` of an unrevoked caller, unless @Public; an
 * @AdminOnly route needs a key whose role is admin.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger(ApiKeyGuard.name);
  private readonly verdicts = new Map<string, Verdict>();

  constructor(
    private readonly reflector: Reflector,
    private readonly clients: ApiClientRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    const request = context
      .switchToHttp()
      .getRequest<FastifyRequest & { clientName?: string; caller?: Caller }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new DomainError(
        'unauthorized',
        'Missing API key: send the header "Authorization: Bearer <api key>".',
        401,
      );
    }
    const caller = await this.callerFor(match[1]!);
    if (caller === null) {
      throw new DomainError('unauthorized', 'The API key is unknown or has been revoked.', 401);
    }
    request.clientName = caller.name;
    request.caller = caller;
    if (
      caller.role !== 'admin' &&
      this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      throw new DomainError('forbidden', 'This route needs an admin API key.', 403);
    }
    return true;
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
      throw new DomainError(
        'service_unavailable',
        'The API key cannot be verified right now (database unreachable); retry shortly.',
        503,
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
