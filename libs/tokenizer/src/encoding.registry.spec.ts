import { getEncodingNameForModel, type TiktokenModel } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { UnsupportedEncodingError } from '#kernel';
import { encodingForModel } from './encoding.registry.js';

const model = (name: string, encoding: string | null = null) => ({
  name,
  encoding,
  tokenMultiplier: 1,
});

describe('encodingForModel', () => {
  it("takes the catalogue's encoding when the row has one", () => {
    expect(encodingForModel(model('claude-sonnet-4', 'cl100k_base'))).toBe('cl100k_base');
    expect(encodingForModel(model('gpt-4', 'o200k_base'))).toBe('o200k_base');
    expect(encodingForModel(model('x', ' O200K_BASE '))).toBe('o200k_base');
  });

  it.each([
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini-2024-07-18', 'o200k_base'],
    ['gpt-4.1-nano', 'o200k_base'],
    ['gpt-4.5-preview', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['gpt-5.2-pro-2099-01-01', 'o200k_base'],
    ['o1-mini', 'o200k_base'],
    ['o3', 'o200k_base'],
    ['o4-mini-deep-research', 'o200k_base'],
    ['chatgpt-4o-latest', 'o200k_base'],
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', 'o200k_base'],
    ['openai/gpt-4.1', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo-2024-04-09', 'cl100k_base'],
    ['gpt-4-32k-0613', 'cl100k_base'],
    ['gpt-3.5-turbo-0125', 'cl100k_base'],
    ['gpt-35-turbo', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
    ['text-davinci-003', 'p50k_base'],
  ])('maps the family of %s to %s when the row has no encoding', (name, encoding) => {
    expect(encodingForModel(model(name))).toBe(encoding);
  });

  it("does not depend on js-tiktoken's lookup, which throws on names it has not heard of", () => {
    expect(() => getEncodingNameForModel('gpt-4o-2099-01-01' as TiktokenModel)).toThrow();
    expect(encodingForModel(model('gpt-4o-2099-01-01'))).toBe('o200k_base');
  });

  it('counts unknown families with o200k_base', () => {
    expect(encodingForModel(model('some-new-model'))).toBe('o200k_base');
    expect(encodingForModel(model('*', ''))).toBe('o200k_base');
  });

  it('refuses an encoding it cannot load, naming the model', () => {
    expect(() => encodingForModel(model('llama-3', 'sentencepiece'))).toThrow(
      UnsupportedEncodingError,
    );
    expect(() => encodingForModel(model('llama-3', 'sentencepiece'))).toThrow(/llama-3/);
  });
});
