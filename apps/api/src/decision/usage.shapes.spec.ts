import { describe, expect, it } from 'vitest';
import { readUsage } from './usage.shapes.js';

describe('readUsage', () => {
  it('reads a Chat Completions usage object exactly as it came', () => {
    expect(
      readUsage({
        prompt_tokens: 2006,
        completion_tokens: 300,
        total_tokens: 2306,
        prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 128, accepted_prediction_tokens: 0 },
      } as never),
    ).toEqual({ promptTokens: 2006, completionTokens: 300, cachedTokens: 1920 });
  });

  it('reads a Responses usage object exactly as it came', () => {
    expect(
      readUsage({
        input_tokens: 328,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 52,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 380,
      } as never),
    ).toEqual({ promptTokens: 328, completionTokens: 52, cachedTokens: 0 });
  });

  it('takes null details as none, and our own partial fields', () => {
    expect(
      readUsage({ prompt_tokens: 5, completion_tokens: 1, prompt_tokens_details: null }),
    ).toEqual({ promptTokens: 5, completionTokens: 1, cachedTokens: 0 });
    expect(readUsage({ completion_tokens: 7 })).toEqual({ completionTokens: 7, cachedTokens: 0 });
  });

  it('refuses two shapes that disagree', () => {
    expect(() => readUsage({ prompt_tokens: 5, input_tokens: 6 })).toThrow(/disagree/);
    expect(readUsage({ prompt_tokens: 5, input_tokens: 5, output_tokens: 1 })).toEqual({
      promptTokens: 5,
      completionTokens: 1,
      cachedTokens: 0,
    });
  });
});
