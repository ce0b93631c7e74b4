import { afterEach, describe, expect, it } from 'vitest';
import { TokenCounter } from './token-counter.service.js';
import { InvalidUpstreamRequestError, readUpstreamRequest } from './upstream.request.js';
import type { ChatMessage, ToolDefinition } from './tokenizer.types.js';

const gpt4o = { name: 'gpt-4o', encoding: 'o200k_base', tokenMultiplier: 1 };
const weather: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather of a city.',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', description: 'The city' } },
      required: ['city'],
    },
  },
};
const schema = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
  additionalProperties: false,
};

const counters: TokenCounter[] = [];
function counter(): TokenCounter {
  const created = new TokenCounter({ poolSize: 0 });
  counters.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(counters.splice(0).map((c) => c.onModuleDestroy()));
});

describe('readUpstreamRequest: Chat Completions', () => {
  const body = {
    model: 'gpt-4o-2024-08-06',
    messages: [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this image?' },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'low' } },
        ],
      },
    ],
    tools: [{ type: 'function', function: weather.function }, { type: 'web_search' }],
    response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } },
    max_completion_tokens: 300,
    n: 3,
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.2,
    user: 'u-1',
    some_future_field: { anything: [1, 2] },
  };

  it('reads model, messages, tools, schema, cap and n; ignores the rest', () => {
    const read = readUpstreamRequest(body);
    expect(read).toEqual({
      kind: 'chat_completions',
      model: 'gpt-4o-2024-08-06',
      messages: body.messages,
      tools: [weather],
      extraTexts: ['reply', JSON.stringify(schema)],
      maxTokens: 300,
      n: 3,
    });
  });

  it('counts exactly what the chat rules count for the same messages, plus the schema', async () => {
    const tokens = counter();
    const read = readUpstreamRequest(body);
    const chat = await tokens.countChat(body.messages as ChatMessage[], gpt4o, [weather]);
    const schemaTokens =
      (await tokens.countText('reply', gpt4o)) +
      (await tokens.countText(JSON.stringify(schema), gpt4o));
    expect(await tokens.countRequest(read, gpt4o)).toBe(chat + schemaTokens);
    // The schema is read by the model: it is not free.
    expect(schemaTokens).toBeGreaterThan(10);
  });

  it('takes max_tokens, the larger of two caps, legacy functions, and n = 1 by default', () => {
    const read = readUpstreamRequest({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      functions: [weather.function],
      max_tokens: 50,
      max_completion_tokens: 70,
    });
    expect(read).toMatchObject({ tools: [weather], maxTokens: 70, n: 1 });
    expect(
      readUpstreamRequest({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }),
    ).toMatchObject({ maxTokens: 50, n: 1 });
    expect(readUpstreamRequest({ messages: [] }).maxTokens).toBeUndefined();
  });
});

describe('readUpstreamRequest: Responses', () => {
  it('reads instructions and a string input as system and user messages', async () => {
    const read = readUpstreamRequest({
      model: 'gpt-4o',
      instructions: 'Be brief.',
      input: 'Hello there',
      max_output_tokens: 200,
      store: false,
      reasoning: { effort: 'low' },
    });
    expect(read).toEqual({
      kind: 'responses',
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello there' },
      ],
      tools: [],
      extraTexts: [],
      maxTokens: 200,
      n: 1,
    });
    const tokens = counter();
    expect(await tokens.countRequest(read, gpt4o)).toBe(
      await tokens.countChat(read.messages, gpt4o),
    );
  });

  it('reads items: content parts, images, function calls and outputs, flat tools, text.format', async () => {
    const read = readUpstreamRequest({
      model: 'gpt-4.1',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Describe this and check the weather.' },
            { type: 'input_image', image_url: 'https://example.com/b.png', detail: 'high' },
            { type: 'input_file', file_id: 'file-1' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'c1', output: '{"temp":3}' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Cold.' }] },
        { type: 'item_reference', id: 'msg_1' },
      ],
      tools: [
        { type: 'function', ...weather.function, strict: true },
        { type: 'web_search_preview' },
      ],
      text: { format: { type: 'json_schema', name: 'reply', schema, strict: true } },
    });
    expect(read.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe this and check the weather.' },
          { type: 'image_url', image_url: { url: 'https://example.com/b.png', detail: 'high' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', content: '{"temp":3}', tool_call_id: 'c1' },
      { role: 'assistant', content: [{ type: 'text', text: 'Cold.' }] },
    ]);
    expect(read.tools).toEqual([weather]);
    expect(read.extraTexts).toEqual(['reply', JSON.stringify(schema)]);
    expect(read.maxTokens).toBeUndefined();
    // An image of unknown size is priced as OpenAI's 1024 × 1024 high-detail example (765).
    const tokens = counter();
    const withImage = await tokens.countRequest(read, gpt4o);
    const withoutImage = await tokens.countRequest(
      {
        ...read,
        messages: [
          {
            role: 'user',
            content: [{ type: 'text', text: 'Describe this and check the weather.' }],
          },
          ...read.messages.slice(1),
        ],
      },
      gpt4o,
    );
    expect(withImage - withoutImage).toBe(765);
  });
});

describe('readUpstreamRequest refuses what no upstream accepts', () => {
  it.each([
    ['not an object', 'hello'],
    ['neither messages nor input', { model: 'gpt-4o' }],
    ['both messages and input', { messages: [], input: 'x' }],
    ['messages not an array', { messages: 'hi' }],
    ['input neither string nor array', { input: 42 }],
    ['a model that is no string', { model: 4, input: 'x' }],
    ['n of 0', { input: 'x', n: 0 }],
    ['n above 128', { input: 'x', n: 129 }],
    ['a fractional cap', { messages: [], max_tokens: 1.5 }],
    ['a negative cap', { input: 'x', max_output_tokens: -1 }],
    ['an absurd cap', { input: 'x', max_output_tokens: 1e12 }],
  ])('%s', (_, body) => {
    expect(() => readUpstreamRequest(body)).toThrow(InvalidUpstreamRequestError);
  });
});
