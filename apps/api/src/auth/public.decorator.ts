import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'token-budget:public';

/** Marks a route that answers without an API key (health, readiness, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
