import { type DomainError, InvalidRequestError } from '#kernel';
import type { SchemaObject } from '@nestjs/swagger';
import type { FastifyServerOptions } from 'fastify';

type AjvOptions = NonNullable<FastifyServerOptions['ajv']>;
type AjvPlugin = Extract<NonNullable<AjvOptions['plugins']>[number], (...args: never[]) => unknown>;
type Ajv = Parameters<AjvPlugin>[0];

/**
 * The tools of a contract defined once as JSON Schema (decision.contract.ts): Fastify compiles
 * the same objects into its validator (Ajv) and serializer (fast-json-stringify); toOpenApi()
 * derives the OpenAPI components from them; explain() words a refused body's faults from them.
 */

/** A JSON Schema, with the few annotations this kit reads (see below). */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  enum?: readonly unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  format?: string;
  description?: string;
  example?: unknown;
  /** A limit on nesting (objects and arrays), for free-form JSON: refused deeper than this. */
  'x-max-depth'?: number;
  /** The sentence of one keyword's fault (`$property` is the field's name). */
  'x-messages'?: Partial<Record<string, string>>;
}

const NAMES = new WeakMap<object, string>();
const NAMED = new Map<string, Schema>();

/** Names a schema: the OpenAPI document shows it as a component and refers to it by name. */
export function named<T extends Schema>(name: string, schema: T): T {
  NAMES.set(schema, name);
  NAMED.set(name, schema);
  return schema;
}

/** Every named schema, as OpenAPI components. */
export function openApiComponents(): Record<string, SchemaObject> {
  return Object.fromEntries(
    [...NAMED].map(([name, schema]) => [name, toOpenApi(schema, false) as SchemaObject]),
  );
}

/** A reference to a named schema, for the OpenAPI decorators. */
export function openApiRef(schema: Schema): SchemaObject {
  const name = NAMES.get(schema);
  if (name === undefined) {
    throw new Error('openApiRef() takes a named() schema');
  }
  return { $ref: `#/components/schemas/${name}` } as SchemaObject;
}

/** The schema as OpenAPI 3.0 shows it: named sub-schemas become references. */
export function toOpenApi(schema: unknown, asRef = true): unknown {
  if (Array.isArray(schema)) {
    return schema.map((item) => toOpenApi(item));
  }
  if (typeof schema !== 'object' || schema === null) {
    return schema;
  }
  const name = NAMES.get(schema);
  if (asRef && name !== undefined) {
    return { $ref: `#/components/schemas/${name}` };
  }
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'x-messages')
      .map(([key, value]) => [
        key,
        key === 'properties' || key === 'example' || key === 'enum'
          ? key === 'properties'
            ? Object.fromEntries(
                Object.entries(value as Record<string, unknown>).map(([field, child]) => [
                  field,
                  toOpenApi(child),
                ]),
              )
            : value
          : toOpenApi(value),
      ]),
  );
}

/** Ajv's settings for the contract: no coercion, nothing removed or defaulted silently. */
export const AJV_OPTIONS: AjvOptions = {
  customOptions: {
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: false,
    allErrors: false,
  },
  plugins: [
    (ajv: Ajv) => {
      ajv.addVocabulary(['example', 'x-messages']);
      ajv.addKeyword({
        keyword: 'x-max-depth',
        schemaType: 'number',
        errors: false,
        validate: (max: number, data: unknown) => depth(data, max + 1) <= max,
      });
      return ajv;
    },
  ],
};

/** Levels of objects and arrays in a JSON value, counted up to `cap`. */
export function depth(value: unknown, cap: number): number {
  if (typeof value !== 'object' || value === null || cap <= 0) {
    return 0;
  }
  let deepest = 0;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, depth(child, cap - 1));
    if (deepest >= cap) {
      break;
    }
  }
  return deepest + 1;
}

const MESSAGES: Record<string, (schema: Schema) => string> = {
  string: () => '$property must be a string',
  integer: () => '$property must be an integer number',
  number: () => '$property must be a number',
  boolean: () => '$property must be a boolean value',
  object: () => '$property must be an object',
  minLength: (s) => `$property must be longer than or equal to ${s.minLength} characters`,
  maxLength: (s) => `$property must be shorter than or equal to ${s.maxLength} characters`,
  pattern: (s) => `$property must match ${s.pattern} regular expression`,
  minimum: (s) => `$property must not be less than ${s.minimum}`,
  maximum: (s) => `$property must not be greater than ${s.maximum}`,
  minItems: (s) => `$property must contain at least ${s.minItems} elements`,
  maxItems: (s) => `$property must contain no more than ${s.maxItems} elements`,
  enum: (s) => `$property must be one of the following values: ${(s.enum ?? []).join(', ')}`,
  const: (s) => `$property must be equal to ${String(s.const)}`,
  nested: () => 'nested property $property must be either object or array',
  eachNested: () => 'each value in nested property $property must be either object or array',
};

/** Checks of one keyword: true when the value passes it. */
const PASSES: Record<string, (schema: Schema, value: unknown) => boolean> = {
  minLength: (s, v) => typeof v === 'string' && [...v].length >= s.minLength!,
  maxLength: (s, v) => typeof v === 'string' && [...v].length <= s.maxLength!,
  pattern: (s, v) => typeof v === 'string' && new RegExp(s.pattern!, 'u').test(v),
  minimum: (s, v) => typeof v === 'number' && v >= s.minimum!,
  maximum: (s, v) => typeof v === 'number' && v <= s.maximum!,
  minItems: (s, v) => Array.isArray(v) && v.length >= s.minItems!,
  maxItems: (s, v) => Array.isArray(v) && v.length <= s.maxItems!,
  enum: (s, v) => s.enum!.includes(v),
  const: (s, v) => v === s.const,
  'x-max-depth': (s, v) => depth(v, s['x-max-depth']! + 1) <= s['x-max-depth']!,
};

function typeMatches(type: Schema['type'], value: unknown): boolean {
  switch (type) {
    case undefined:
      return true;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'null':
      return value === null;
    case 'string':
    case 'boolean':
      return typeof value === type;
  }
}

/** True when the value satisfies the schema (used by explain() to pick anyOf branches). */
function fits(schema: Schema, value: unknown): boolean {
  return problems(schema, value, 'value', '').length === 0;
}

function sentence(schema: Schema, keyword: string, property: string): string {
  const text = schema['x-messages']?.[keyword] ?? MESSAGES[keyword]?.(schema) ?? keyword;
  return text.replaceAll('$property', property);
}

/**
 * The faults of a value against its schema, in class-validator's words (the words this service
 * has always answered with): `path sentence` or `path: sentence`, one per failing keyword, in
 * the order the schema lists its keywords.
 */
function problems(schema: Schema, value: unknown, property: string, parent: string): string[] {
  const path = parent ? `${parent}.${property}` : property;
  const prefix = parent ? `${parent}.` : '';
  if (value === null && schema.nullable) {
    return [];
  }
  if (schema.anyOf) {
    return schema.anyOf.some((branch) => fits(branch, value))
      ? []
      : [`${prefix}${sentence(schema, 'anyOf', property)}`];
  }
  const typeOk = typeMatches(schema.type, value);
  const nests = schema.type === 'array' || (schema.type === 'object' && !!schema.properties);
  const own: string[] = [];
  for (const keyword of Object.keys(schema)) {
    if (keyword === 'type' ? !typeOk && !nests : !(PASSES[keyword]?.(schema, value) ?? true)) {
      own.push(sentence(schema, keyword === 'type' ? schema.type! : keyword, property));
    }
  }
  if (!typeOk && nests) {
    own.push(sentence(schema, schema.type === 'array' ? 'eachNested' : 'nested', property));
  }
  return [
    ...own.map((line) => (line.startsWith(property) ? `${prefix}${line}` : `${path}: ${line}`)),
    ...(typeOk ? nestedProblems(schema, value, path) : []),
  ];
}

function nestedProblems(schema: Schema, value: unknown, path: string): string[] {
  if (schema.type === 'array' && schema.items && Array.isArray(value)) {
    return value.flatMap((item, index) => problems(schema.items!, item, String(index), path));
  }
  if (schema.type === 'object' && schema.properties && typeMatches('object', value)) {
    return objectProblems(schema, value as Record<string, unknown>, path);
  }
  return [];
}

function objectProblems(schema: Schema, value: Record<string, unknown>, parent: string): string[] {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const found: string[] = [];
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(value)) {
      if (!(key in properties)) {
        found.push(`${parent ? `${parent}.` : ''}${key}: property ${key} should not exist`);
      }
    }
  }
  for (const [key, child] of Object.entries(properties)) {
    if (value[key] === undefined && !required.has(key)) {
      continue;
    }
    found.push(...problems(child, value[key], key, parent));
  }
  return found;
}

/** A refused body's faults as sentences, from the same schema Ajv refused it with. */
export function explain(schema: Schema, body: unknown): string[] {
  // A body that is not an object is read as one without fields, as class-transformer did.
  return objectProblems(
    schema,
    typeMatches('object', body) ? (body as object as Record<string, unknown>) : {},
    '',
  );
}

interface AjvFault {
  instancePath: string;
  message?: string;
}

/**
 * A body Fastify refused against its route's schema, as the SPEC error body: code
 * `invalid_request`, the faults in class-validator's words (explain()), else in Ajv's.
 */
export function contractFault(
  source: unknown,
  request: { body?: unknown; routeOptions?: { schema?: object } } | undefined,
): DomainError | undefined {
  const fault = source as { validation?: AjvFault[]; validationContext?: string } | null;
  if (!Array.isArray(fault?.validation) || request === undefined) {
    return undefined;
  }
  const context = fault.validationContext ?? 'body';
  const schemas = request.routeOptions?.schema as Record<string, Schema | undefined> | undefined;
  const schema = schemas?.[context];
  const explained = schema && context === 'body' ? explain(schema, request.body) : [];
  const problems =
    explained.length > 0
      ? explained
      : fault.validation.map((error) =>
          `${error.instancePath.slice(1).replaceAll('/', '.')} ${error.message ?? ''}`.trim(),
        );
  return new InvalidRequestError(`Invalid request: ${problems.join('; ')}.`, { problems });
}
