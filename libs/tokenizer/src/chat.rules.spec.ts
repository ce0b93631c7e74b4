import { describe, expect, it } from 'vitest';
import { planChat, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE } from './chat.rules.js';
import type { ChatMessage, ToolDefinition } from './tokenizer.types.js';

/** The plans (texts to tokenize + fixed tokens); TokenCounter's spec checks the totals. */
describe('planChat', () => {
  it('frames every message with 3 tokens and primes the reply with 3', () => {
    const plan = planChat(
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello' },
      ],
      'o200k_base',
    );
    expect(plan).toEqual({
      texts: ['system', 'You are terse.', 'user', 'Hello'],
      fixed: 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS,
    });
    expect(planChat([], 'o200k_base')).toEqual({ texts: [], fixed: 3 });
  });

  it('adds a name with one more token', () => {
    const plan = planChat([{ role: 'user', name: 'alice', content: 'Hi' }], 'o200k_base');
    expect(plan).toEqual({ texts: ['user', 'Hi', 'alice'], fixed: 3 + 1 + 3 });
  });

  it('counts text parts and prices image parts', () => {
    const plan = planChat(
      [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'https://x/a.png', detail: 'low' } },
            { type: 'image_url', image_url: { url: 'https://x/b.png', width: 2048, height: 4096 } },
            { type: 'image_url', image_url: { url: 'https://x/c.png' } },
            { type: 'text', text: 'Be brief.' },
          ],
        },
      ],
      'o200k_base',
    );
    expect(plan).toEqual({
      texts: ['user', 'What is in these?', 'Be brief.'],
      fixed: 3 + 3 + 85 + 1105 + 765,
    });
  });

  it("counts an assistant's tool calls (names and arguments) and a tool's reply", () => {
    const messages: ChatMessage[] = [
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
          { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
    ];
    expect(planChat(messages, 'o200k_base')).toEqual({
      texts: [
        'assistant',
        'get_weather',
        '{"city":"Paris"}',
        'get_time',
        '{}',
        'tool',
        '{"temp":21}',
        'call_1',
      ],
      fixed: 2 * 3 + 3,
    });
  });

  it("counts tools by the cookbook's rule", () => {
    const tools: ToolDefinition[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get the current weather.',
          parameters: {
            type: 'object',
            properties: {
              location: { type: 'string', description: 'City and country.' },
              unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
            },
            required: ['location'],
          },
        },
      },
      { type: 'function', function: { name: 'now' } },
    ];
    const messages: ChatMessage[] = [{ role: 'user', content: 'Weather?' }];
    // o200k: per function 7; properties 3; per key 3; enum −3 then 3 per value; closing 12.
    expect(planChat(messages, 'o200k_base', tools)).toEqual({
      texts: [
        'user',
        'Weather?',
        'get_weather:Get the current weather',
        'location:string:City and country',
        'celsius',
        'fahrenheit',
        'unit:string:',
        'now:',
      ],
      fixed: 3 + 3 + (7 + 3 + 3 + 3 - 3 + 3 + 3) + 7 + 12,
    });
    // cl100k (gpt-4, gpt-3.5): a function opens with 10.
    expect(planChat(messages, 'cl100k_base', tools).fixed).toBe(
      3 + 3 + (10 + 3 + 3 + 3 - 3 + 3 + 3) + 10 + 12,
    );
    expect(planChat(messages, 'o200k_base', []).fixed).toBe(6);
  });

  it('takes odd but valid shapes without throwing', () => {
    const odd = [
      { role: 'assistant' },
      { role: 'assistant', content: null },
      { role: 'user', content: [] },
      { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA' } }] },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'No.' }] },
      { role: 'assistant', content: '', tool_calls: [] },
    ] as unknown as ChatMessage[];
    const tools = [
      { type: 'function', function: { name: 'a', parameters: { properties: [] } } },
      { type: 'function', function: { name: 'b', parameters: { properties: { x: 1 } } } },
      {
        type: 'function',
        function: {
          name: 'c',
          description: '',
          parameters: { properties: { y: { type: ['string', 'null'], enum: [1, null, 'z'] } } },
        },
      },
    ] as unknown as ToolDefinition[];
    const plan = planChat(odd, 'o200k_base', tools);
    expect(plan.texts).toEqual([
      'assistant',
      'assistant',
      'user',
      'user',
      'assistant',
      'No.',
      'assistant',
      'a:',
      'b:',
      'x::',
      'c:',
      '1',
      'z',
      'y:string,null:',
    ]);
  });
});
