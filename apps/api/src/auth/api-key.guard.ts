import { DomainError } from '#kernel';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeyVerdicts } from './api-key.verdicts.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Every route needs `Authorization: Bearer <key>` of an unrevoked caller, unless @Public. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verdicts: ApiKeyVerdicts,
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
      throw new DomainError(
        'unauthorized',
        'Missing API key: send the header "Authorization: Bearer <api key>".',
        401,
      );
    }
    const verdict = await this.verdicts.verdict(match[1]!);
    if (verdict.client === null) {
      if (verdict.reason === 'unverifiable') {
        throw new DomainError(
          'service_unavailable',
          'The API key cannot be verified right now (database unreachable); retry shortly.',
          503,
        );
      }
      throw new DomainError('unauthorized', 'The API key is unknown or has been revoked.', 401);
    }
    request.clientName = verdict.client.name;
    return true;
  }
}
