import { InvalidRequestError } from '#kernel';
import type { UpstreamUsageBody } from './decision.contract.js';

/** A usage object of either upstream shape, as the engine counts it. */
export interface ReadUsage {
  /** Every prompt token, the cached ones included; absent when the body gives none. */
  promptTokens?: number;
  completionTokens?: number;
  /** Of the prompt tokens, those served from the prompt cache (0 when not reported). */
  cachedTokens: number;
}

/**
 * Reads our own fields, a Chat Completions `usage` (prompt_tokens, completion_tokens,
 * prompt_tokens_details.cached_tokens) or a Responses `usage` (input_tokens, output_tokens,
 * input_tokens_details.cached_tokens). Reasoning tokens are part of the completion tokens, as
 * OpenAI counts them, so they are never added. Two shapes that disagree are refused, not guessed.
 */
export function readUsage(usage: UpstreamUsageBody): ReadUsage {
  const promptTokens = oneOf(
    usage.prompt_tokens,
    usage.input_tokens,
    'prompt_tokens',
    'input_tokens',
  );
  const completionTokens = oneOf(
    usage.completion_tokens,
    usage.output_tokens,
    'completion_tokens',
    'output_tokens',
  );
  const cachedTokens =
    oneOf(
      usage.prompt_tokens_details?.cached_tokens ?? undefined,
      usage.input_tokens_details?.cached_tokens ?? undefined,
      'prompt_tokens_details.cached_tokens',
      'input_tokens_details.cached_tokens',
    ) ?? 0;
  return {
    ...(promptTokens === undefined ? {} : { promptTokens }),
    ...(completionTokens === undefined ? {} : { completionTokens }),
    cachedTokens,
  };
}

/** Cached tokens are part of the prompt tokens: more of them than prompt tokens is a 400. */
export function assertCachedWithinPrompt(promptTokens: number, cachedTokens: number): void {
  if (cachedTokens > promptTokens) {
    throw invalid(
      `usage: cached_tokens (${cachedTokens}) are part of the prompt tokens and cannot exceed them (${promptTokens}).`,
    );
  }
}

function oneOf(
  a: number | undefined,
  b: number | undefined,
  aName: string,
  bName: string,
): number | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw invalid(`usage: ${aName} (${a}) and ${bName} (${b}) disagree; give one of them.`);
  }
  return a ?? b;
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(message);
}
