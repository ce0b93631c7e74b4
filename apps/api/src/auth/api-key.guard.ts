import { ForbiddenError } from '#kernel';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyVerifier, type AuthenticatedRequest } from './api-key.verifier.js';
import { ADMIN_ONLY } from './caller.js';
import { IS_PUBLIC } from './public.decorator.js';

/**
 * Every route needs `Authorization: Bearer <key>` of an unrevoked caller, unless @Public; an
 * @AdminOnly route needs a key whose role is admin (403 forbidden otherwise).
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: ApiKeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    await this.verifier.authenticate(request);
    if (
      request.caller?.role !== 'admin' &&
      this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [
        context.getHandler(),
        context.getClass(),
      ])
    ) {
      throw new ForbiddenError();
    }
    return true;
  }
}
