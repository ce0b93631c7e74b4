import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { corpusText } from './text.corpus.js';
import { PieceCounter } from './piece.counter.js';
import { UnsupportedEncodingError } from '#kernel';
import type { ChatMessage, ToolDefinition } from './index.js';
import { claude, counters, gpt4o, o200kTokens } from './token-counter.fixture.js';

let cl100kRef: Tiktoken;
const counter = counters();

beforeAll(() => {
  cl100kRef = new Tiktoken(cl100k);
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
    // On a clock where every calibration sample takes 500 ms, a measured limit is the floor.
    let clock = 0;
    const now = vi.spyOn(performance, 'now').mockImplementation(() => (clock += 500));
    try {
      await tokens.warmUp(['o200k_base', 'bpe_9000']);
    } finally {
      now.mockRestore();
    }
    // Measured on o200k_base (the default before any warm-up is 32,000), bpe_9000 skipped.
    expect(tokens.stats.inlineMaxChars).toBe(16_000);
    await expect(
      tokens.countText('hi', { name: 'odd', encoding: 'bpe_9000', tokenMultiplier: 1 }),
    ).rejects.toThrow(UnsupportedEncodingError);
  });

  it('sets the inline limit from how fast this machine counts, within 16,000–256,000', async () => {
    await counter({ poolSize: 0 }).warmUp(['o200k_base']); // loaded: only counting is timed below
    // Each calibration sample "takes" `msPerSample` on a fake clock that only counting moves.
    const limitAt = async (msPerSample: number): Promise<number> => {
      let clock = 0;
      const countAll = PieceCounter.prototype.countAll;
      const spies = [
        vi.spyOn(performance, 'now').mockImplementation(() => clock),
        vi.spyOn(PieceCounter.prototype, 'countAll').mockImplementation(function (
          this: PieceCounter,
          texts,
        ) {
          clock += msPerSample;
          return countAll.call(this, texts);
        }),
      ];
      try {
        const tokens = counter({ poolSize: 0 });
        await tokens.warmUp(['o200k_base']);
        return tokens.stats.inlineMaxChars;
      } finally {
        spies.forEach((spy) => spy.mockRestore());
      }
    };
    expect(counter({ poolSize: 0 }).stats.inlineMaxChars).toBe(32_000); // before any warm-up
    const fast = await limitAt(1);
    const slow = await limitAt(2);
    expect(fast).toBeGreaterThan(32_000);
    expect(slow / fast).toBeCloseTo(0.5, 3); // half the speed, half the text inline
    expect(await limitAt(1_000)).toBe(16_000);
    expect(await limitAt(0.001)).toBe(256_000);
    // A limit given in the options is kept.
    const fixed = counter({ poolSize: 0, inlineMaxChars: 12_345 });
    await fixed.warmUp(['o200k_base']);
    expect(fixed.stats.inlineMaxChars).toBe(12_345);
  });
});
