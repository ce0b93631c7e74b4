/**
 * THE /v1 CONTRACT, DEFINED ONCE (SPEC §4). Each body below is one JSON Schema object, and
 * everything else is derived from it: Fastify's validation of the request (Ajv, compiled once),
 * the serialization of the answer (fast-json-stringify), the OpenAPI document (`named()` schemas
 * become components) and the sentences of a 400 (http/contract.kit.ts `explain()`).
 *
 * To add a field:
 *   1. Add it under `properties` of its body, with `description` and `example` for the docs;
 *      the rules are JSON Schema keywords (`type`, `minimum`, `maxLength`, `pattern`, `enum`,
 *      `items`, `anyOf`, …). Required fields also go in `required`.
 *   2. Objects refuse unknown fields (`additionalProperties: false`); for a free-form object
 *      whose unknown fields are accepted (an upstream body, an upstream usage), say
 *      `additionalProperties: true` on it and list only the fields that are read.
 *   3. Add it to the TypeScript interface beside the schema (the shape the handlers read).
 *   4. An answer field must be listed in its response schema: the serializer writes only what
 *      the schema lists (a field missing here is dropped from the answer).
 * Rules across fields ("exactly one of", "at most max_tokens") stay in the services.
 */
import { type Schema, named } from '../http/contract.kit.js';
import { DIMENSIONS } from '#budget';
import { DOMAIN_ERRORS } from '#kernel';

/** The largest token count accepted anywhere: keeps every cost product exact in doubles. */
export const MAX_TOKENS = 10_000_000;

/** Printable text: no control characters (Unicode category Cc: C0, DEL and C1). */
export const PRINTABLE = /^\P{Cc}*$/u;

const ONE_INPUT =
  'Exactly one of `messages`, `prompt`, `prompt_tokens` or `request` describes the input.';
const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;
const MAX_PARTS = 256;
const MAX_SCHEMA_DEPTH = 32;

// ---------------------------------------------------------------- field kinds

/** 1..max printable characters. */
const printableId = (maxLength: number, extra: Schema = {}): Schema => ({
  type: 'string',
  minLength: 1,
  maxLength,
  pattern: PRINTABLE.source,
  'x-messages': { pattern: '$property must not contain control characters' },
  ...extra,
});

/** A whole number of tokens, min..MAX_TOKENS. */
const tokenCount = (minimum: number, extra: Schema = {}): Schema => ({
  type: 'integer',
  minimum,
  maximum: MAX_TOKENS,
  ...extra,
});

/** A string, at most maxLength characters (keyword order: the order faults are named in). */
const text = (maxLength: number | undefined, extra: Schema = {}): Schema => ({
  ...(maxLength === undefined ? {} : { maxLength }),
  type: 'string',
  ...extra,
});

const object = (
  properties: Record<string, Schema>,
  required: string[] = [],
  extra: Schema = {},
): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
  ...extra,
});

// ---------------------------------------------------------------- request bodies

const FUNCTION_TYPE: Schema = {
  type: 'string',
  enum: ['function'],
  example: 'function',
  'x-messages': { enum: '$property must be equal to function' },
};

export const FunctionCall = named(
  'FunctionCallDto',
  object(
    {
      name: text(256, { description: 'The called function.', example: 'get_weather' }),
      arguments: text(undefined, {
        description: 'Its arguments as a JSON string.',
        example: '{"city":"Paris"}',
      }),
    },
    ['name', 'arguments'],
  ),
);

export const ToolCall = named(
  'ToolCallDto',
  object(
    {
      id: text(256, { example: 'call_abc123' }),
      type: FUNCTION_TYPE,
      function: FunctionCall,
    },
    ['function'],
  ),
);

export const FunctionDefinition = named(
  'FunctionDefinitionDto',
  object(
    {
      name: text(256, { example: 'get_weather' }),
      description: text(undefined, { example: 'Current weather of a city.' }),
      parameters: {
        type: 'object',
        additionalProperties: true,
        description: `JSON Schema of the arguments; at most ${MAX_SCHEMA_DEPTH} levels deep.`,
        example: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        'x-max-depth': MAX_SCHEMA_DEPTH,
        'x-messages': {
          'x-max-depth': `parameters must not nest deeper than ${MAX_SCHEMA_DEPTH} levels`,
        },
      },
      strict: { type: 'boolean' },
    },
    ['name'],
  ),
);

export const ToolDefinition = named(
  'ToolDefinitionDto',
  object(
    {
      type: FUNCTION_TYPE,
      function: FunctionDefinition,
    },
    ['type', 'function'],
  ),
);

const CONTENT_PART: Schema = {
  anyOf: [
    object({ type: { type: 'string', enum: ['text'] }, text: { type: 'string' } }, [
      'type',
      'text',
    ]),
    object(
      {
        type: { type: 'string', enum: ['image_url'] },
        image_url: object(
          {
            url: { type: 'string' },
            detail: { type: 'string', enum: ['low', 'high', 'auto'] },
            width: { type: 'integer', minimum: 1, maximum: 100_000 },
            height: { type: 'integer', minimum: 1, maximum: 100_000 },
          },
          ['url'],
        ),
      },
      ['type', 'image_url'],
    ),
  ],
};

export const ChatMessage = named(
  'ChatMessageDto',
  object(
    {
      role: { type: 'string', enum: ROLES, example: 'user' },
      content: {
        description:
          `A string, null, or at most ${MAX_PARTS} parts \`{"type":"text","text":...}\` or ` +
          '`{"type":"image_url","image_url":{"url":...,"detail":"low|high|auto"}}` ' +
          '(image width and height, when given, 1–100000).',
        anyOf: [
          { type: 'string', nullable: true },
          { type: 'array', maxItems: MAX_PARTS, items: CONTENT_PART },
        ],
        example: 'Hello!',
        'x-messages': {
          anyOf:
            `$property must be a string or an array of at most ${MAX_PARTS} parts ` +
            '{"type":"text","text":...} or {"type":"image_url","image_url":{"url":...}}',
        },
      },
      name: text(256, { example: 'alice' }),
      tool_calls: { type: 'array', maxItems: 128, items: ToolCall },
      tool_call_id: text(256, { example: 'call_abc123' }),
    },
    ['role'],
  ),
);

export interface ChatMessageBody {
  role: (typeof ROLES)[number];
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: {
    id?: string;
    type?: 'function';
    function: { name: string; arguments: string };
  }[];
  tool_call_id?: string;
}

export type ContentPart =
  | { type: 'text'; text: string }
  | {
      type: 'image_url';
      image_url: { url: string; detail?: 'low' | 'high' | 'auto'; width?: number; height?: number };
    };

export interface ToolDefinitionBody {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

/** OpenAI's own bound on `n`. */
export const MAX_CHOICES = 128;
const MAX_REQUEST_DEPTH = 64;

const nullableCap = (description: string): Schema =>
  tokenCount(0, { nullable: true, description, example: 512 });

/**
 * The upstream body exactly as the gateway sends it: unknown fields are accepted (and ignored),
 * only what decides cost is read (libs/tokenizer readUpstreamRequest).
 */
export const UpstreamRequest = named('UpstreamRequest', {
  type: 'object',
  additionalProperties: true,
  description:
    'An OpenAI Chat Completions body (`messages`) or Responses body (`input`, `instructions`), ' +
    'exactly as it goes upstream. Read: `model`, the input (messages or input items, content ' +
    'parts, images), `instructions`, `tools` / `functions`, a `json_schema` ' +
    '`response_format` / `text.format`, the completion cap (`max_tokens`, ' +
    '`max_completion_tokens`, `max_output_tokens`) and `n`. Every other field (`stream`, ' +
    `\`temperature\`, \`user\`, …) is ignored. At most ${MAX_REQUEST_DEPTH} levels deep. ${ONE_INPUT}`,
  'x-max-depth': MAX_REQUEST_DEPTH,
  'x-messages': {
    'x-max-depth': `request must not nest deeper than ${MAX_REQUEST_DEPTH} levels`,
  },
  properties: {
    model: text(256, { description: 'The model; a top-level `model` wins.' }),
    messages: {
      type: 'array',
      maxItems: 4096,
      description: 'Chat Completions messages (any role, content parts, images, tool calls).',
    },
    input: {
      description:
        'Responses input: a string, or items (messages with content parts, ' +
        'function calls and their outputs).',
      anyOf: [{ type: 'string' }, { type: 'array', maxItems: 4096 }],
      'x-messages': { anyOf: '$property must be a string or an array of items' },
    },
    instructions: { type: 'string', nullable: true, description: 'Responses instructions.' },
    tools: { type: 'array', maxItems: 512, description: 'Function (and custom) tools count.' },
    max_tokens: nullableCap('Chat Completions completion cap (per choice).'),
    max_completion_tokens: nullableCap('Chat Completions completion cap (per choice).'),
    max_output_tokens: nullableCap('Responses completion cap.'),
    n: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_CHOICES,
      nullable: true,
      description: 'Choices: the completion estimate is multiplied by it.',
    },
  },
  example: {
    model: 'gpt-4o-2024-08-06',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello!' },
    ],
    max_completion_tokens: 256,
    n: 2,
    stream: true,
    temperature: 0.2,
  },
});

const ESTIMATE_FIELDS: Record<string, Schema> = {
  subject: printableId(256, {
    description: 'Whose budget is charged (an end user, a team, a key of your own users).',
    example: 'user_123',
  }),
  model: printableId(128, {
    description:
      'The model: its exact `models` row, else without a `provider/` prefix, else without a ' +
      'dated snapshot suffix (`gpt-4o-2024-08-06` is `gpt-4o`), else the `*` row; else a 400. ' +
      'Required unless `request.model` names it (this one wins).',
    example: 'gpt-4o',
  }),
  request: UpstreamRequest,
  n: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_CHOICES,
    description: 'Choices (wins over `request.n`): the completion estimate is multiplied by it.',
    example: 1,
  },
  messages: {
    type: 'array',
    maxItems: 4096,
    minItems: 1,
    items: ChatMessage,
    description: `The prompt in OpenAI chat format, counted with the model's tokenizer. ${ONE_INPUT}`,
    example: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello!' },
    ],
  },
  tools: {
    type: 'array',
    maxItems: 512,
    items: ToolDefinition,
    description: 'Tool definitions sent with `messages` (only beside `messages`); they count too.',
  },
  prompt: text(undefined, {
    description: `The prompt as one string, counted with the model's tokenizer. ${ONE_INPUT}`,
    example: 'Summarise this page',
  }),
  prompt_tokens: tokenCount(0, {
    description: `Prompt tokens the caller already counted. ${ONE_INPUT}`,
    example: 1234,
  }),
  max_tokens: tokenCount(1, {
    description: "Completion estimate; absent, the model's `default_max_tokens`.",
    example: 512,
  }),
  max_completion_tokens: tokenCount(1, {
    description: "Alias of `max_tokens` (OpenAI's newer name); if both are given they must agree.",
    example: 512,
  }),
};

/** The reservation's own fields of /v1/check. */
const RESERVATION_FIELDS: Record<string, Schema> = {
  min_max_tokens: tokenCount(1, {
    description:
      'Graceful degradation: when the full estimate does not fit, grant the largest ' +
      '`granted_max_tokens` that does, at least this many (cap the inference there). ' +
      'At most the completion estimate.',
    example: 64,
  }),
  idempotency_key: printableId(256, {
    description:
      'A retried check with the same key and subject returns the same reservation for 24 hours, ' +
      'also once it is settled; the same key with another body is a 409 idempotency_key_reused.',
    example: 'req-42',
  }),
  ttl_seconds: {
    type: 'integer',
    minimum: 1,
    description:
      'Reservation lifetime in seconds, from 1 to `RESERVATION_TTL_MAX_SECONDS` (3600 by ' +
      'default; larger is a 400, never clamped). Default `RESERVATION_TTL_SECONDS` (600).',
    example: 600,
  },
};

/**
 * What the inference will send: the input of /v1/estimate (SPEC §4), the same as check's, so a
 * caller sends one body to both; the reservation's fields are accepted there and ignored.
 */
export const EstimateRequest = named(
  'EstimateRequestDto',
  object({ ...ESTIMATE_FIELDS, ...RESERVATION_FIELDS }, ['subject']),
);

export interface EstimateRequestBody {
  subject: string;
  /** Absent: `request.model` (the service refuses a body with neither). */
  model?: string;
  /** Read by readUpstreamRequest; the contract only bounds it. */
  request?: Record<string, unknown>;
  n?: number;
  messages?: ChatMessageBody[];
  tools?: ToolDefinitionBody[];
  prompt?: string;
  prompt_tokens?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
}

/** The input of /v1/check: the estimate's, and the reservation's own fields. */
export const CheckRequest = named(
  'CheckRequestDto',
  object({ ...ESTIMATE_FIELDS, ...RESERVATION_FIELDS }, ['subject']),
);

export interface CheckRequestBody extends EstimateRequestBody {
  min_max_tokens?: number;
  idempotency_key?: string;
  ttl_seconds?: number;
}

const RESERVATION_ID = printableId(512, {
  description: 'The `reservation_id` answered by /v1/check.',
  example: 'rsv_01JDQ6Z8W3K9V2N4M7P5X1C0BA',
});

const details = (field: string, description: string): Schema => ({
  type: 'object',
  nullable: true,
  additionalProperties: true,
  properties: { [field]: tokenCount(0, { nullable: true, description }) },
});

/**
 * Usage as the upstream reported it: our own fields, or a Chat Completions or Responses `usage`
 * object exactly as it came (details included; other fields ignored).
 */
const USAGE_FIELDS: Record<string, Schema> = {
  prompt_tokens: tokenCount(0, {
    description: 'Prompt tokens, cached ones included (Chat Completions `usage`).',
    example: 1200,
  }),
  completion_tokens: tokenCount(0, {
    description: 'Completion tokens, reasoning included (Chat Completions `usage`).',
    example: 300,
  }),
  prompt_tokens_details: details(
    'cached_tokens',
    'Of the prompt tokens, those served from the prompt cache: priced at the cached-input price.',
  ),
  completion_tokens_details: details(
    'reasoning_tokens',
    'Part of completion_tokens (read, not charged twice).',
  ),
  input_tokens: tokenCount(0, { description: 'Responses `usage`: the prompt tokens.' }),
  output_tokens: tokenCount(0, { description: 'Responses `usage`: the completion tokens.' }),
  input_tokens_details: details('cached_tokens', 'Responses: cached input tokens.'),
  output_tokens_details: details('reasoning_tokens', 'Responses: part of output_tokens.'),
};

const usageObject = (name: string, description: string) =>
  named(name, {
    ...object(USAGE_FIELDS),
    additionalProperties: true,
    description,
    example: {
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  });

export const CommitUsage = usageObject(
  'CommitUsageDto',
  'The real usage: `prompt_tokens`/`completion_tokens` (Chat Completions) or ' +
    '`input_tokens`/`output_tokens` (Responses), with `*_details.cached_tokens` where the ' +
    'upstream reports them; other fields are ignored. Absent prompt tokens: the count made at ' +
    'check time; absent completion tokens: give `completion` (the text) instead.',
);

/** A usage object of either shape (usage.shapes.ts reads it). */
export interface UpstreamUsageBody {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  output_tokens_details?: { reasoning_tokens?: number | null } | null;
}

export const CommitRequest = named(
  'CommitRequestDto',
  object(
    {
      reservation_id: RESERVATION_ID,
      usage: { ...CommitUsage, description: 'The real usage reported by the upstream.' },
      completion: text(undefined, {
        description:
          'The generated text, when the upstream reported no usage: the service counts it. ' +
          'Give exactly one of `usage.completion_tokens` or `completion`.',
        example: 'Hello! How can I help?',
      }),
    },
    ['reservation_id'],
  ),
);

export interface CommitRequestBody {
  reservation_id: string;
  usage?: UpstreamUsageBody;
  completion?: string;
}

export const RefundUsage = usageObject(
  'RefundUsageDto',
  'Partial usage to charge, in either shape (as commit `usage`): the completion tokens (or ' +
    '`completion` text instead); absent prompt tokens, the count made at check time.',
);

export const RefundRequest = named(
  'RefundRequestDto',
  object(
    {
      reservation_id: RESERVATION_ID,
      usage: {
        ...RefundUsage,
        description:
          'Partial usage to charge; absent (and no `completion`), everything reserved goes ' +
          'back (a zero-cost refund).',
      },
      completion: text(undefined, {
        description:
          'The text generated before the failure (a stream cut short), when the upstream ' +
          'reported no usage: the service counts it and charges it with the prompt. Give at ' +
          'most one of `usage.completion_tokens` or `completion`.',
        example: 'Hello! How can',
      }),
      reason: printableId(256, {
        description: 'Why the inference failed (free text, for your records).',
        example: 'upstream_error',
      }),
    },
    ['reservation_id'],
  ),
);

export interface RefundRequestBody {
  reservation_id: string;
  usage?: UpstreamUsageBody;
  completion?: string;
  reason?: string;
}

// ---------------------------------------------------------------- answers

const money = (description: string): Schema => ({
  type: 'string',
  pattern: '^\\d+\\.\\d{6}$',
  description: `${description} (USD, six fractional digits)`,
  example: '0.008205',
});
const count = (description: string): Schema => ({ type: 'integer', minimum: 0, description });
const instant = (description: string): Schema => ({
  type: 'string',
  format: 'date-time',
  description,
});
/** An answer object: every listed field is present unless `optional` says otherwise. */
const answer = (properties: Record<string, Schema>, required = Object.keys(properties)) => ({
  type: 'object' as const,
  properties,
  required,
});

const BUCKET = answer({
  limit: count('Capacity of the bucket (token_burst where set).'),
  remaining: count('Whole units left, rounded down.'),
  reset_seconds: count('Seconds until the bucket is full again, rounded up.'),
});

/** The stable codes, listed from the error classes (refusals have their own schema). */
const ERROR_CODES =
  'Stable error code: ' +
  DOMAIN_ERRORS.map((error) => `\`${error.code}\` (${error.status})`).join(', ') +
  '; a fault the framework answers itself is named after its status (`not_found`, ' +
  '`method_not_allowed`, …) and anything unexpected is `internal_error` (500).';

export const ErrorBody = named('ErrorBody', {
  ...answer({
    error: { type: 'string', description: ERROR_CODES, example: 'invalid_request' },
    message: { type: 'string', description: 'A human sentence.' },
  }),
  additionalProperties: true,
  description: 'Every error: `{ error, message, ...details }`.',
});

export const Limits = named('Limits', {
  ...answer(
    {
      requests: BUCKET,
      tokens: BUCKET,
      concurrent: answer({
        limit: count('In-flight reservations allowed.'),
        remaining: count(''),
      }),
      daily_cost: answer({
        limit_usd: money('Daily limit'),
        remaining_usd: money('Left today, after committed and in-flight cost'),
        reset_at: instant('Next 00:00 UTC.'),
      }),
      monthly_cost: answer({
        limit_usd: money('Monthly limit'),
        remaining_usd: money('Left this month, after committed and in-flight cost'),
        reset_at: instant('00:00 UTC on the 1st of next month.'),
      }),
      model_requests: BUCKET,
      model_tokens: BUCKET,
    },
    [],
  ),
  description: 'Only the dimensions that are limited for this subject (and model) appear.',
});

/** SPEC §4 `scope`: each limited ancestor of the subject, nearest first. */
export const ScopeView: Schema = {
  type: 'array',
  description: "Each ancestor in the subject's scope whose tier limits something, nearest first.",
  items: answer({ subject: { type: 'string' }, tier: { type: 'string' }, limits: Limits }),
};

const MODEL_USED: Schema = {
  type: 'string',
  description:
    'The `models` row used (`gpt-4o` for `openai/gpt-4o-2024-08-06`; `*` for the fallback).',
};
const REQUESTED_MODEL: Schema = { type: 'string', description: 'The model name as sent.' };

export const EstimateView = named(
  'Estimate',
  answer({
    prompt_tokens: count('Prompt tokens (counted, or as given).'),
    completion_tokens: count('Completion tokens reserved: the cap per choice times `n`.'),
    cost_usd: money('Price of both'),
  }),
);

export const CheckAllowed = named(
  'CheckAllowed',
  answer(
    {
      allowed: { type: 'boolean', enum: [true] },
      reservation_id: { type: 'string', description: 'Send it to /v1/commit or /v1/refund.' },
      subject: { type: 'string' },
      tier: { type: 'string' },
      model: MODEL_USED,
      requested_model: REQUESTED_MODEL,
      estimate: EstimateView,
      granted_max_tokens: count(
        'Cap the inference here, per choice (less than asked when degraded).',
      ),
      expires_at: instant('When the reservation is settled by expiry if never committed.'),
      limits: Limits,
      scope: ScopeView,
    },
    [
      'allowed',
      'reservation_id',
      'subject',
      'tier',
      'model',
      'requested_model',
      'estimate',
      'granted_max_tokens',
      'expires_at',
      'limits',
    ],
  ),
);

/** A refusal; its details may grow (additionalProperties), like every error body's. */
export const CheckRefused = named('CheckRefused', {
  ...answer(
    {
      error: {
        type: 'string',
        enum: [
          'rate_limit_exceeded',
          'concurrency_limit_exceeded',
          'daily_budget_exceeded',
          'monthly_budget_exceeded',
          'exceeds_capacity',
        ],
      },
      message: { type: 'string' },
      dimension: { type: 'string', enum: [...DIMENSIONS] },
      retry_after_seconds: {
        type: 'integer',
        minimum: 1,
        description: 'Equal to Retry-After; absent for exceeds_capacity.',
      },
      limit: {
        description: 'Of the refusing dimension; a money string for daily_cost and monthly_cost.',
      },
      remaining: {
        description: 'Of the refusing dimension; a money string for daily_cost and monthly_cost.',
      },
      reset_at: instant('When this request would fit; absent for exceeds_capacity.'),
      limits: Limits,
      scope_subject: {
        type: 'string',
        description: 'The level of the scope that refused: the subject itself, or an ancestor.',
      },
      scope: ScopeView,
    },
    ['error', 'message', 'dimension', 'limit', 'remaining', 'limits'],
  ),
  additionalProperties: true,
});

export const EstimateResult = named(
  'EstimateResult',
  answer({
    subject: { type: 'string' },
    tier: { type: 'string' },
    model: MODEL_USED,
    requested_model: REQUESTED_MODEL,
    estimate: EstimateView,
  }),
);

export const Settled = named(
  'Settled',
  answer({
    reservation_id: { type: 'string' },
    status: { type: 'string', enum: ['committed', 'refunded'] },
    usage: answer({
      prompt_tokens: count('Charged, cached ones included.'),
      completion_tokens: count('Charged.'),
      cached_tokens: count('Of prompt_tokens, charged at the cached-input price.'),
    }),
    cost_usd: money('Charged'),
    limits: Limits,
  }),
);

export const SubjectUsage = named(
  'SubjectUsage',
  answer({
    subject: { type: 'string' },
    tier: { type: 'string' },
    limits: Limits,
    today: answer({
      date: { type: 'string', format: 'date', description: 'The UTC day.' },
      cost_usd: money('Charged today'),
      requests: count('Charged settlements today.'),
      prompt_tokens: count(''),
      completion_tokens: count(''),
    }),
    month: answer({
      month: { type: 'string', pattern: '^\\d{4}-\\d{2}$', description: 'The UTC month.' },
      cost_usd: money('Charged this month'),
      requests: count('Charged settlements this month.'),
      prompt_tokens: count(''),
      completion_tokens: count(''),
    }),
    in_flight: {
      type: 'array',
      items: answer({
        reservation_id: { type: 'string' },
        model: { type: 'string' },
        expires_at: instant(''),
        estimate: EstimateView,
      }),
    },
  }),
);

/** The errors every JSON route may answer, serialized like any error body. */
const ERRORS = Object.fromEntries(
  [400, 401, 403, 404, 409, 413, 415, 500, 503].map((status) => [status, ErrorBody]),
);

/** Fastify route schemas: the request body and the answer of each status. */
export const ROUTE_SCHEMAS = {
  check: { body: CheckRequest, response: { ...ERRORS, 200: CheckAllowed, 429: CheckRefused } },
  estimate: { body: EstimateRequest, response: { ...ERRORS, 200: EstimateResult } },
  commit: { body: CommitRequest, response: { ...ERRORS, 200: Settled } },
  refund: { body: RefundRequest, response: { ...ERRORS, 200: Settled } },
  usage: { response: { ...ERRORS, 200: SubjectUsage } },
} as const;
