import { ServiceUnavailableError, UnauthorizedError } from '#kernel';
import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiClientRepository, hashApiKey } from '#ledger';
import { IS_PUBLIC } from './public.decorator.js';

/** A key's verdict is cached this long, so a new or revoked key takes effect within 2 s. */
const CACHE_MS = 1000;
const CACHE_MAX = 10_000;

interface Verdict {
  clientName: string | null;
  checkedAt: number;
}

/** Every route needs `Authorization: Bearer <key>` of an unrevoked caller, unless @Public. */
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
    const request = context.switchToHttp().getRequest<FastifyRequest & { clientName?: string }>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (!match) {
      throw new UnauthorizedError('missing');
    }
    const clientName = await this.clientNameFor(match[1]!);
    if (clientName === null) {
      throw new UnauthorizedError('unknown');
    }
    request.clientName = clientName;
    return true;
  }

  /** Cached by the key as sent (this process holds it anyway): no hash on a cache hit. */
  private async clientNameFor(key: string): Promise<string | null> {
    const cached = this.verdicts.get(key);
    const now = Date.now();
    if (cached && now - cached.checkedAt < CACHE_MS) {
      return cached.clientName;
    }
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
