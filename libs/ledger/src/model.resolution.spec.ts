import { describe, expect, it } from 'vitest';
import { resolveModelRow } from './model.resolution.js';

const rows = new Map(
  ['gpt-4o', 'gpt-4o-mini', 'gpt-4', 'o3', 'o3-mini', 'claude-3-5-sonnet', 'gpt-4.1', '*'].map(
    (name) => [name, name],
  ),
);
const resolve = (name: string): string | undefined => resolveModelRow(rows, name);

describe('resolveModelRow', () => {
  it('takes the exact name first', () => {
    expect(resolve('gpt-4o')).toBe('gpt-4o');
    expect(resolve('gpt-4o-mini')).toBe('gpt-4o-mini');
  });

  it('drops a provider/ prefix', () => {
    expect(resolve('openai/gpt-4o')).toBe('gpt-4o');
    expect(resolve('openrouter/openai/gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(resolve('anthropic/claude-3-5-sonnet-20241022')).toBe('claude-3-5-sonnet');
  });

  it('drops a dated snapshot suffix, taking the longest catalogued name', () => {
    expect(resolve('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(resolve('gpt-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(resolve('o3-mini-2025-01-31')).toBe('o3-mini');
    expect(resolve('o3-2025-04-16')).toBe('o3');
    expect(resolve('claude-3-5-sonnet-20241022')).toBe('claude-3-5-sonnet');
    expect(resolve('gpt-4-0613')).toBe('gpt-4');
    expect(resolve('gpt-4.1-2025-04-14')).toBe('gpt-4.1');
  });

  it('never takes a suffix that is not digits and dashes', () => {
    // gpt-4 + "o-2024-08-06" is no snapshot of gpt-4; gpt-4-32k no snapshot at all.
    expect(resolve('gpt-4-32k')).toBeUndefined();
    expect(resolve('gpt-4o-audio-preview-2024-12-17')).toBeUndefined();
    expect(resolve('o3-pro')).toBeUndefined();
    expect(resolve('gpt-4o-')).toBeUndefined();
    expect(resolve('gpt-4o--')).toBeUndefined();
  });

  it('leaves an unknown name to the caller (the * row or unknown_model)', () => {
    expect(resolve('some-new-model')).toBeUndefined();
    expect(resolve('openai/')).toBeUndefined();
  });
});
