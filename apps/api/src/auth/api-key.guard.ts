import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyVerifier, type AuthenticatedRequest } from './api-key.verifier.js';
import { IS_PUBLIC } from './public.decorator.js';

/** Every route needs `Authorization: Bearer <key>` of an unrevoked caller, unless @Public. */
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
    await this.verifier.authenticate(context.switchToHttp().getRequest<AuthenticatedRequest>());
    return true;
  }
}
