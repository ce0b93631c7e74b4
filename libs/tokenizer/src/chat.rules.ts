import type { EncodingName } from './encoding.registry.js';
import { imageTokens } from './image.tokens.js';
import type { ChatMessage, ContentPart, ToolDefinition } from './tokenizer.types.js';

/**
 * How a chat request becomes tokens, by the rules of OpenAI's cookbook ("How to count tokens with
 * tiktoken"): every message costs 3 tokens of framing plus the tokens of each of its string
 * fields (role, content, name, tool_call_id), a `name` one more, and the reply is primed with 3.
 *
 * The result is a plan, not a number: the texts to tokenize (each counted on its own, as the
 * cookbook encodes each value separately) and the fixed tokens around them. Tokenizing can then
 * run inline or on a worker thread without these rules knowing.
 */
export interface TokenPlan {
  texts: string[];
  fixed: number;
}

export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

/**
 * The cookbook's `num_tokens_for_tools` constants: gpt-4o and later (o200k) open each function
 * with 7 tokens, gpt-4 and gpt-3.5 (cl100k and older) with 10; the rest is shared.
 */
export const TOOL_TOKENS = {
  functionInitO200k: 7,
  functionInitOlder: 10,
  propertiesInit: 3,
  propertyKey: 3,
  enumInit: -3,
  enumItem: 3,
  functionsEnd: 12,
} as const;

export function planChat(
  messages: readonly ChatMessage[],
  encoding: EncodingName,
  tools?: readonly ToolDefinition[],
): TokenPlan {
  const plan: TokenPlan = { texts: [], fixed: REPLY_PRIMING_TOKENS };
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) {
      continue;
    }
    plan.fixed += TOKENS_PER_MESSAGE;
    addText(plan, message.role);
    addContent(plan, message.content);
    if (typeof message.name === 'string') {
      plan.fixed += TOKENS_PER_NAME;
      addText(plan, message.name);
    }
    addText(plan, message.tool_call_id);
    // Assistant tool calls: the function's name and its JSON arguments, as the model wrote them.
    for (const call of message.tool_calls ?? []) {
      addText(plan, call.function?.name);
      addText(plan, call.function?.arguments);
    }
  }
  if (tools !== undefined && tools.length > 0) {
    planTools(plan, tools, encoding);
  }
  return plan;
}

function addContent(plan: TokenPlan, content: ChatMessage['content']): void {
  if (typeof content === 'string') {
    addText(plan, content);
    return;
  }
  if (!Array.isArray(content)) {
    return;
  }
  for (const part of content as readonly ContentPart[]) {
    switch (part?.type) {
      case 'text':
        addText(plan, part.text);
        break;
      case 'image_url':
        plan.fixed += imageTokens(part.image_url);
        break;
      case 'refusal':
        addText(plan, part.refusal);
        break;
      default:
        // A part type we cannot price (audio, files) adds nothing rather than failing the check.
        break;
    }
  }
}

/**
 * The cookbook's rule for `tools`: per function, an opening, then "name:description"; if it has
 * properties, an opening for them and per property a key cost plus "key:type:description", and
 * per enum value its text and a cost. One closing for the whole list. A description loses one
 * trailing period, as in the cookbook. Nested schemas are not walked (nor are they there).
 */
function planTools(
  plan: TokenPlan,
  tools: readonly ToolDefinition[],
  encoding: EncodingName,
): void {
  const functionInit =
    encoding === 'o200k_base' ? TOOL_TOKENS.functionInitO200k : TOOL_TOKENS.functionInitOlder;
  for (const tool of tools) {
    const fn = tool?.function;
    if (fn === undefined || fn === null) {
      continue;
    }
    plan.fixed += functionInit;
    addText(plan, `${stringOf(fn.name)}:${withoutFinalPeriod(fn.description)}`);
    const properties = objectOf(objectOf(fn.parameters)?.properties);
    const keys = properties === undefined ? [] : Object.keys(properties);
    if (keys.length === 0) {
      continue;
    }
    plan.fixed += TOOL_TOKENS.propertiesInit;
    for (const key of keys) {
      plan.fixed += TOOL_TOKENS.propertyKey;
      const property = objectOf(properties![key]) ?? {};
      if (Array.isArray(property.enum)) {
        plan.fixed += TOOL_TOKENS.enumInit;
        for (const item of property.enum as unknown[]) {
          plan.fixed += TOOL_TOKENS.enumItem;
          addText(plan, stringOf(item));
        }
      }
      addText(
        plan,
        `${key}:${typeName(property.type)}:${withoutFinalPeriod(property.description)}`,
      );
    }
  }
  plan.fixed += TOOL_TOKENS.functionsEnd;
}

function addText(plan: TokenPlan, text: unknown): void {
  if (typeof text === 'string' && text.length > 0) {
    plan.texts.push(text);
  }
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function stringOf(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

/** JSON Schema allows `"type": ["string", "null"]`; the cookbook assumes one name. */
function typeName(type: unknown): string {
  return Array.isArray(type) ? type.map(stringOf).join(',') : stringOf(type);
}

function withoutFinalPeriod(description: unknown): string {
  const text = stringOf(description);
  return text.endsWith('.') ? text.slice(0, -1) : text;
}
