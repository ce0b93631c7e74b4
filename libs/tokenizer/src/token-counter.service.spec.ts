import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { corpusText } from './text.corpus.js';
import { resolveWorkerUrl } from './count.pool.js';
import { UnsupportedEncodingError } from '#kernel';
import { TokenCounter, TokenizerModule, type ChatMessage, type ToolDefinition } from './index.js';

const gpt4o = { name: 'gpt-4o', encoding: null, tokenMultiplier: 1 };
const claude = { name: 'claude-sonnet-4', encoding: 'cl100k_base', tokenMultiplier: 1.2 };

let o200kRef: Tiktoken;
let cl100kRef: Tiktoken;
const o200kTokens = (text: string): number => o200kRef.encode(text, [], []).length;

const counters: TokenCounter[] = [];
function counter(options?: ConstructorParameters<typeof TokenCounter>[0]): TokenCounter {
  const created = new TokenCounter(options);
  counters.push(created);
  return created;
}

beforeAll(() => {
  o200kRef = new Tiktoken(o200k);
  cl100kRef = new Tiktoken(cl100k);
});

afterEach(async () => {
  await Promise.all(counters.splice(0).map((created) => created.onModuleDestroy()));
});

describe('TokenCounter', () => {
  it('counts a prompt or a completion as js-tiktoken does', async () => {
    const tokens = counter({ poolSize: 0 });
    for (const text of ['', 'Hello, world!', corpusText('multilingual', 4, 3000)]) {
      expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));
    }
  });

  it('counts a single "Hello" chat turn as 8 tokens on gpt-4o (3 + user + Hello + 3)', async () => {
    const tokens = counter({ poolSize: 0 });
    expect(await tokens.countChat([{ role: 'user', content: 'Hello' }], gpt4o)).toBe(8);
  });

  it('totals chat messages, names, special-token text and tools', async () => {
    const tokens = counter({ poolSize: 0 });
    const user = 'Summarise <|endoftext|> for me, please.';
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', name: 'bob', content: user },
    ];
    const expected =
      3 +
      o200kTokens('system') +
      o200kTokens('You are a helpful assistant.') +
      3 +
      o200kTokens('user') +
      o200kTokens(user) +
      1 +
      o200kTokens('bob') +
      3;
    expect(await tokens.countChat(messages, gpt4o)).toBe(expected);

    const tools: ToolDefinition[] = [
      { type: 'function', function: { name: 'now', description: 'The time.' } },
    ];
    expect(await tokens.countChat(messages, gpt4o, tools)).toBe(
      expected + 7 + o200kTokens('now:The time') + 12,
    );
  });

  it('multiplies non-OpenAI counts and rounds up', async () => {
    const tokens = counter({ poolSize: 0 });
    const text = corpusText('prose', 9, 2000);
    const base = cl100kRef.encode(text, [], []).length;
    expect(await tokens.countText(text, claude)).toBe(Math.ceil((base * 12) / 10));
  });

  it('counts in slices, yielding, when there are no worker threads', async () => {
    const tokens = counter({ poolSize: 0, inlineMaxChars: 8_000 });
    const text = corpusText('code', 21, 60_000);
    expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(tokens.stats.sliced).toBe(1);
  });

  it('warms up what it can, and still refuses to count with an unknown encoding', async () => {
    const tokens = counter({ poolSize: 0 });
    await tokens.warmUp(['o200k_base', 'bpe_9000']);
    await expect(
      tokens.countText('hi', { name: 'odd', encoding: 'bpe_9000', tokenMultiplier: 1 }),
    ).rejects.toThrow(UnsupportedEncodingError);
  });

  it('sets the inline limit from a measurement at warm-up', async () => {
    const tokens = counter({ poolSize: 0 });
    await tokens.warmUp(['o200k_base', 'cl100k_base']);
    expect(tokens.stats.inlineMaxChars).toBeGreaterThanOrEqual(16_000);
    expect(tokens.stats.inlineMaxChars).toBeLessThanOrEqual(256_000);
  });
});

/** These use the compiled worker (dist/), which `npm test` builds first. */
describe('TokenCounter with worker threads', () => {
  beforeAll(() => {
    const worker = fileURLToPath(
      resolveWorkerUrl(new URL('./count.pool.ts', import.meta.url).href),
    );
    if (!existsSync(worker)) {
      throw new Error(`${worker} is missing: run \`npm run build\` (npm test does) first.`);
    }
  });

  it('counts large inputs on the pool, to the same totals', async () => {
    const tokens = counter({ poolSize: 2, inlineMaxChars: 10_000 });
    const text = corpusText('prose', 31, 400_000);
    expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));

    const messages: ChatMessage[] = [
      { role: 'system', content: corpusText('code', 32, 30_000) },
      { role: 'user', content: [{ type: 'text', text: corpusText('multilingual', 33, 30_000) }] },
    ];
    const inline = await counter({ poolSize: 0, inlineMaxChars: 1e9 }).countChat(messages, claude);
    expect(await tokens.countChat(messages, claude)).toBe(inline);
    expect(tokens.stats).toMatchObject({ inline: 0, offloaded: 2, sliced: 0 });
  });

  it('tries text up to 4× the inline limit inline first, and hands over the rest', async () => {
    const text = corpusText('common-prose', 36, 30_000);
    const patient = counter({ poolSize: 1, inlineMaxChars: 10_000, inlineBudgetMs: 1e6 });
    expect(await patient.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(patient.stats).toMatchObject({ inline: 1, offloaded: 0 });
    const hurried = counter({ poolSize: 1, inlineMaxChars: 10_000, inlineBudgetMs: 0 });
    expect(await hurried.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(hurried.stats).toMatchObject({ inline: 0, offloaded: 1 });
    const large = corpusText('common-prose', 37, 41_000);
    expect(await patient.countText(large, gpt4o)).toBe(o200kTokens(large));
    expect(patient.stats).toMatchObject({ inline: 1, offloaded: 1 });
  });

  it('hands the rest of a slow inline count to a worker', async () => {
    const tokens = counter({ poolSize: 1, inlineMaxChars: 1e9, inlineBudgetMs: 0 });
    const text = corpusText('json', 34, 50_000);
    expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(tokens.stats.offloaded).toBe(1);
  });

  it('finishes a count that was on a worker when shutdown stopped the pool', async () => {
    const tokens = counter({ poolSize: 1, inlineMaxChars: 16_000 });
    const text = corpusText('code', 38, 400_000);
    const counting = tokens.countText(text, gpt4o);
    await new Promise((resolve) => setImmediate(resolve)); // posted; the worker needs far longer
    await tokens.onModuleDestroy();
    expect(await counting).toBe(o200kTokens(text));
    expect(tokens.stats).toMatchObject({ offloaded: 1, sliced: 1 });
  });

  it('is what TokenizerModule provides, and stops its workers when the app closes', async () => {
    const app = await NestFactory.createApplicationContext(TokenizerModule, { logger: false });
    const tokens = app.get(TokenCounter);
    await tokens.warmUp(['o200k_base']);
    const text = corpusText('prose', 35, 300_000);
    expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(tokens.stats.offloaded).toBe(1);
    await app.close();
    // Closed: no pool any more; a large count still works, in slices on this thread.
    expect(await tokens.countText(text, gpt4o)).toBe(o200kTokens(text));
    expect(tokens.stats.sliced).toBe(1);
  });
});
