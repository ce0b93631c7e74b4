import { getSchemaPath, type SchemaObject } from '@nestjs/swagger';
import { openApiComponents } from '../http/contract.kit.js';
import './decision.contract.js';

/**
 * The /v1 bodies as named OpenAPI schemas, derived from the contract (decision.contract.ts) and
 * registered as components by http/openapi.ts; decision.openapi.ts refers to them by name.
 */
export const schemaRef = (name: string): SchemaObject =>
  ({ $ref: getSchemaPath(name) }) as SchemaObject;

export const DECISION_SCHEMAS: Record<string, SchemaObject> = openApiComponents();
