/**
 * The shapes the rest of the service hands to the counter. They mirror OpenAI's chat format; the
 * DTOs validate requests elsewhere, so the counter accepts these loosely and never throws on odd
 * but valid input (a missing description, an unknown part type, null content).
 */

/** What counting needs from a `models` catalogue row. */
export interface ModelTokenization {
  name: string;
  /** The catalogue's `encoding` column; null means "resolve by the model-name prefix table". */
  encoding: string | null;
  /** The catalogue's `token_multiplier`: non-OpenAI models are an OpenAI encoding times this. */
  tokenMultiplier: number;
}

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  image_url: {
    url: string;
    detail?: 'low' | 'high' | 'auto';
    /** Pixel size, when the caller knows it: enables OpenAI's exact tile formula. */
    width?: number;
    height?: number;
  };
}

/** An assistant's refusal, as the API returns it and callers may replay it in history. */
export interface RefusalPart {
  type: 'refusal';
  refusal: string;
}

export type ContentPart = TextPart | ImagePart | RefusalPart;

export interface ToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}
