import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { afterEach } from 'vitest';
import { TokenCounter, type TokenCounterOptions } from './token-counter.service.js';

/** What the TokenCounter specs share (not built: tsconfig.build.json leaves `*.fixture.ts` out). */

export const gpt4o = { name: 'gpt-4o', encoding: null, tokenMultiplier: 1 };
export const claude = { name: 'claude-sonnet-4', encoding: 'cl100k_base', tokenMultiplier: 1.2 };

let o200kRef: Tiktoken | undefined;
/** The reference count: js-tiktoken's ordinary encoding. */
export function o200kTokens(text: string): number {
  o200kRef ??= new Tiktoken(o200k);
  return o200kRef.encode(text, [], []).length;
}

/** A factory of counters that are all stopped after each test of the calling spec file. */
export function counters(): (options?: TokenCounterOptions) => TokenCounter {
  const created: TokenCounter[] = [];
  afterEach(async () => {
    await Promise.all(created.splice(0).map((counter) => counter.onModuleDestroy()));
  });
  return (options) => {
    const counter = new TokenCounter(options);
    created.push(counter);
    return counter;
  };
}
