import { InvalidRequestError } from '#kernel';
import type { ChatMessage, ContentPart, ToolCall, ToolDefinition } from './tokenizer.types.js';

/**
 * What decides the cost of an OpenAI request body, read from the body exactly as a gateway sends
 * it upstream: a Chat Completions body (`messages`) or a Responses body (`input` and/or
 * `instructions`). Both become chat messages and function tools, so one set of counting rules
 * (chat.rules.ts) prices them. Fields that do not change the cost (`stream`, `temperature`,
 * `user`, `metadata`, and any field this service does not know) are ignored, never refused.
 */
export interface UpstreamRequest {
  kind: 'chat_completions' | 'responses';
  /** `model` as the body names it; absent when the body has none. */
  model?: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
  /** Text the model reads beside the messages: a structured-output JSON schema. */
  extraTexts: string[];
  /** The completion cap the body sets, per choice; absent, the model's default applies. */
  maxTokens?: number;
  /** Choices asked for (`n`, default 1): the completion is paid this many times. */
  n: number;
}

/** A `request` no upstream would accept: an invalid_request (400) naming the field. */
export class InvalidUpstreamRequestError extends InvalidRequestError {
  constructor(message: string) {
    super(`"request": ${message}`);
  }
}

type Json = Record<string, unknown>;

/** OpenAI's own bound on `n`. */
const MAX_CHOICES = 128;
/** The largest token count the service accepts anywhere (keeps cost products exact). */
const MAX_TOKENS = 10_000_000;

export function readUpstreamRequest(body: unknown): UpstreamRequest {
  const request = objectOf(body);
  if (request === undefined) {
    throw new InvalidUpstreamRequestError(
      'must be an object, the Chat Completions or Responses body.',
    );
  }
  const model = request.model;
  if (model !== undefined && typeof model !== 'string') {
    throw new InvalidUpstreamRequestError('"model" must be a string.');
  }
  const n = request.n ?? 1;
  if (!isCount(n) || n < 1 || n > MAX_CHOICES) {
    throw new InvalidUpstreamRequestError(`"n" must be a whole number from 1 to ${MAX_CHOICES}.`);
  }
  const common = { ...(model === undefined ? {} : { model }), n };
  if (Array.isArray(request.messages)) {
    if (request.input !== undefined) {
      throw new InvalidUpstreamRequestError('give "messages" or "input", not both.');
    }
    return { kind: 'chat_completions', ...common, ...readChatCompletions(request) };
  }
  if (request.messages !== undefined) {
    throw new InvalidUpstreamRequestError('"messages" must be an array.');
  }
  if (request.input === undefined && request.instructions === undefined) {
    throw new InvalidUpstreamRequestError(
      'has neither "messages" (Chat Completions) nor "input" or "instructions" (Responses).',
    );
  }
  return { kind: 'responses', ...common, ...readResponses(request) };
}

type Body = Pick<UpstreamRequest, 'messages' | 'tools' | 'extraTexts' | 'maxTokens'>;

function readChatCompletions(request: Json): Body {
  const tools = arrayOf(request.tools).flatMap(chatTool);
  // The legacy `functions` list is priced like tools.
  for (const fn of arrayOf(request.functions)) {
    const definition = functionTool(objectOf(fn));
    if (definition !== undefined) {
      tools.push(definition);
    }
  }
  const format = objectOf(request.response_format);
  return {
    messages: (request.messages as unknown[]).flatMap((m) => {
      const message = objectOf(m);
      return message === undefined ? [] : [message as unknown as ChatMessage];
    }),
    tools,
    extraTexts: format?.type === 'json_schema' ? schemaTexts(objectOf(format.json_schema)) : [],
    // Both caps given: the larger, so the reservation never falls short of the upstream's cap.
    maxTokens: largerCap(
      cap(request.max_tokens, 'max_tokens'),
      cap(request.max_completion_tokens, 'max_completion_tokens'),
    ),
  };
}

function readResponses(request: Json): Body {
  const messages: ChatMessage[] = [];
  if (typeof request.instructions === 'string') {
    messages.push({ role: 'system', content: request.instructions });
  }
  if (typeof request.input === 'string') {
    messages.push({ role: 'user', content: request.input });
  } else if (Array.isArray(request.input)) {
    for (const item of request.input) {
      const message = responsesItem(objectOf(item));
      if (message !== undefined) {
        messages.push(message);
      }
    }
  } else if (request.input !== undefined) {
    throw new InvalidUpstreamRequestError('"input" must be a string or an array of items.');
  }
  const format = objectOf(objectOf(request.text)?.format);
  return {
    messages,
    tools: arrayOf(request.tools).flatMap(responsesTool),
    extraTexts: format?.type === 'json_schema' ? schemaTexts(format) : [],
    maxTokens: cap(request.max_output_tokens, 'max_output_tokens'),
  };
}

/** A Responses input item as the chat message it amounts to; undefined when it costs nothing. */
function responsesItem(item: Json | undefined): ChatMessage | undefined {
  if (item === undefined) {
    return undefined;
  }
  switch (item.type) {
    case undefined:
    case 'message':
      return typeof item.role === 'string'
        ? { role: item.role, content: responsesContent(item.content) }
        : undefined;
    case 'function_call':
    case 'custom_tool_call': {
      const call: ToolCall = {
        function: {
          name: stringOf(item.name),
          arguments: stringOf(item.type === 'function_call' ? item.arguments : item.input),
        },
      };
      return { role: 'assistant', content: null, tool_calls: [call] };
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      return {
        role: 'tool',
        content: responsesContent(item.output),
        tool_call_id: stringOf(item.call_id),
      };
    case 'reasoning': {
      // Replayed reasoning summaries are read as input: priced like assistant text.
      const texts = arrayOf(item.summary).map((part) => stringOf(objectOf(part)?.text));
      return { role: 'assistant', content: texts.join('\n') };
    }
    default:
      // Item references, built-in tool calls: nothing this service can count.
      return undefined;
  }
}

function responsesContent(content: unknown): ChatMessage['content'] {
  if (typeof content === 'string') {
    return content;
  }
  return arrayOf(content).flatMap((p): ContentPart[] => {
    const part = objectOf(p);
    switch (part?.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        return [{ type: 'text', text: stringOf(part.text) }];
      case 'refusal':
        return [{ type: 'refusal', refusal: stringOf(part.refusal) }];
      case 'input_image': {
        const detail = part.detail;
        return [
          {
            type: 'image_url',
            image_url: {
              url: stringOf(part.image_url),
              ...(detail === 'low' || detail === 'high' || detail === 'auto' ? { detail } : {}),
            },
          },
        ];
      }
      case 'image_url':
        return [part as unknown as ContentPart];
      default:
        return [];
    }
  });
}

/** Chat Completions: `{type: 'function', function: {...}}`, or a custom tool. */
function chatTool(value: unknown): ToolDefinition[] {
  const tool = objectOf(value);
  if (tool?.type === 'function') {
    const definition = functionTool(objectOf(tool.function));
    return definition === undefined ? [] : [definition];
  }
  if (tool?.type === 'custom') {
    const definition = functionTool(objectOf(tool.custom));
    return definition === undefined ? [] : [definition];
  }
  return [];
}

/** Responses: flat `{type: 'function', name, description, parameters}`, or a custom tool. */
function responsesTool(value: unknown): ToolDefinition[] {
  const tool = objectOf(value);
  if (tool?.type === 'function' || tool?.type === 'custom') {
    const definition = functionTool(tool);
    return definition === undefined ? [] : [definition];
  }
  // Built-in tools (web_search, file_search, …) are priced by the provider per call, not here.
  return [];
}

function functionTool(fn: Json | undefined): ToolDefinition | undefined {
  if (fn === undefined || typeof fn.name !== 'string') {
    return undefined;
  }
  return {
    type: 'function',
    function: {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      ...(objectOf(fn.parameters) === undefined
        ? {}
        : { parameters: objectOf(fn.parameters) as Json }),
    },
  };
}

/** A structured-output schema is sent to the model: its name, description and JSON. */
function schemaTexts(format: Json | undefined): string[] {
  if (format === undefined) {
    return [];
  }
  const texts = [stringOf(format.name), stringOf(format.description)];
  if (format.schema !== undefined) {
    texts.push(JSON.stringify(format.schema));
  }
  return texts.filter((text) => text.length > 0);
}

function cap(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isCount(value)) {
    throw new InvalidUpstreamRequestError(
      `"${name}" must be a whole number of tokens from 0 to ${MAX_TOKENS}.`,
    );
  }
  return value;
}

function largerCap(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKENS;
}

function objectOf(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

function arrayOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function stringOf(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  return value === undefined || value === null ? '' : JSON.stringify(value);
}
