import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiClientRole } from '#ledger';

/** Who made a request: the api_clients row its key belongs to. */
export interface Caller {
  name: string;
  role: ApiClientRole;
}

export const ADMIN_ONLY = 'token-budget:admin-only';

/** Marks routes that only an `admin` key may call; a `caller` key gets 403 forbidden. */
export const AdminOnly = (): MethodDecorator & ClassDecorator => SetMetadata(ADMIN_ONLY, true);

/** The authenticated caller of this request (set by ApiKeyGuard). */
export const CurrentCaller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Caller =>
    context.switchToHttp().getRequest<{ caller: Caller }>().caller,
);
