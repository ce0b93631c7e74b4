import { ApiClient } from './api-client.entity.js';

export { ApiClient };

/** Every entity TypeORM maps; the schema itself comes only from migrations/. */
export const ENTITIES = [ApiClient];
