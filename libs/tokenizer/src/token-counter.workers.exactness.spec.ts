import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusText } from './text.corpus.js';
import { resolveWorkerUrl } from './count.pool.js';
import { type ChatMessage, TokenCounter, TokenizerModule } from './index.js';
import { claude, counters, gpt4o, o200kTokens } from './token-counter.fixture.js';

const counter = counters();

/**
 * The same totals on worker threads as on the calling thread. These start the compiled worker
 * (dist/), so they run in the `exactness` project, after `npm run build`.
 */
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
