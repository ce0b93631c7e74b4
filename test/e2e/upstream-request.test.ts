import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

/**
 * SPEC §4 for gateways: `request` is the upstream body as it goes out (Chat Completions or
 * Responses), model names resolve like the provider's, and commit/refund take the upstream's
 * `usage` object as it came, cached tokens priced apart — money exact in the ledger.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

const weather = {
  name: 'get_weather',
  description: 'Current weather of a city.',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'The city' },
      unit: { type: 'string', enum: ['c', 'f'] },
    },
    required: ['city'],
  },
};
const schema = {
  type: 'object',
  properties: { answer: { type: 'string' }, confidence: { type: 'number' } },
  required: ['answer', 'confidence'],
  additionalProperties: false,
};
const messages = [
  { role: 'developer', content: 'You answer in JSON.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'What is the weather where this photo was taken?' },
      { type: 'image_url', image_url: { url: 'https://example.com/p.jpg', detail: 'low' } },
    ],
  },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '{"temp":3,"unit":"c"}' },
];

/** A real Chat Completions body, with fields this service never reads. */
const chatBody = {
  model: 'openai/gpt-4o-2024-08-06',
  messages,
  tools: [{ type: 'function', function: weather }],
  tool_choice: 'auto',
  parallel_tool_calls: false,
  response_format: { type: 'json_schema', json_schema: { name: 'reply', strict: true, schema } },
  max_completion_tokens: 200,
  n: 3,
  stream: true,
  stream_options: { include_usage: true },
  temperature: 0.3,
  top_p: 1,
  seed: 7,
  logit_bias: { '50256': -100 },
  user: 'end-user-1',
  metadata: { team: 'a' },
  some_field_from_next_year: { nested: [1, { deeper: true }] },
};

async function estimateOf(body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const reply = await t.request('POST', '/v1/estimate', { subject: unique('est'), ...body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

async function ledgerRow(reservationId: unknown): Promise<Record<string, unknown>> {
  const { rows } = await t.sql(
    `SELECT model, prompt_tokens, cached_tokens, completion_tokens, cost_usd::text AS cost_usd, status
     FROM usage_ledger WHERE reservation_id = $1`,
    [reservationId],
  );
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

describe('/v1/check and /v1/estimate with `request`', () => {
  it('count a Chat Completions body as its messages, tools and schema; the completion × n', async () => {
    // The same prompt through the top-level fields (cookbook rules, tested elsewhere) plus the
    // schema's name and JSON: what the model reads.
    const plain = await estimateOf({
      model: 'gpt-4o',
      messages,
      tools: [{ type: 'function', function: weather }],
      max_tokens: 1,
    });
    const schemaName = await estimateOf({ model: 'gpt-4o', prompt: 'reply', max_tokens: 1 });
    const schemaJson = await estimateOf({
      model: 'gpt-4o',
      prompt: JSON.stringify(schema),
      max_tokens: 1,
    });
    const promptOf = (body: Record<string, unknown>) =>
      (body.estimate as { prompt_tokens: number }).prompt_tokens;
    const expectedPrompt = promptOf(plain) + promptOf(schemaName) + promptOf(schemaJson);

    const subject = unique('chat');
    const reply = await t.request('POST', '/v1/check', { subject, request: chatBody });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    // gpt-4o at $2.50 / $10 per Mtok; 200 tokens per choice, 3 choices.
    const cost = Math.ceil(expectedPrompt * 2.5 + 600 * 10);
    expect(reply.body).toMatchObject({
      allowed: true,
      model: 'gpt-4o',
      requested_model: 'openai/gpt-4o-2024-08-06',
      estimate: {
        prompt_tokens: expectedPrompt,
        completion_tokens: 600,
        cost_usd: `0.${String(cost).padStart(6, '0')}`,
      },
      granted_max_tokens: 200,
    });
    const estimate = await estimateOf({ request: chatBody });
    expect(estimate).toMatchObject({
      model: 'gpt-4o',
      requested_model: 'openai/gpt-4o-2024-08-06',
      estimate: reply.body.estimate,
    });
  });

  it('count a Responses body: instructions, input items, flat tools, text.format, max_output_tokens', async () => {
    const responsesBody = {
      model: 'gpt-4.1-mini-2025-04-14',
      instructions: 'You answer in JSON.',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is the weather where this photo was taken?' },
            { type: 'input_image', image_url: 'https://example.com/p.jpg', detail: 'low' },
          ],
        },
        {
          type: 'function_call',
          call_id: 'call_1',
          name: 'get_weather',
          arguments: '{"city":"Oslo"}',
        },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":3,"unit":"c"}' },
      ],
      tools: [{ type: 'function', strict: true, ...weather }, { type: 'web_search_preview' }],
      text: { format: { type: 'json_schema', name: 'reply', strict: true, schema } },
      max_output_tokens: 321,
      stream: true,
      store: false,
      reasoning: { effort: 'low' },
      include: ['reasoning.encrypted_content'],
    };
    const read = await estimateOf({ request: responsesBody });
    const asChat = await estimateOf({
      request: {
        model: 'gpt-4.1-mini',
        messages: [
          { role: 'system', content: 'You answer in JSON.' },
          messages[1],
          { ...messages[2], tool_calls: [{ function: messages[2]!.tool_calls![0]!.function }] },
          messages[3],
        ],
        tools: [{ type: 'function', function: weather }],
        response_format: { type: 'json_schema', json_schema: { name: 'reply', schema } },
        max_tokens: 321,
      },
    });
    expect(read).toMatchObject({
      model: 'gpt-4.1-mini',
      requested_model: 'gpt-4.1-mini-2025-04-14',
      estimate: asChat.estimate,
    });
    expect((read.estimate as { completion_tokens: number }).completion_tokens).toBe(321);
  });

  it("falls back to the model's default cap, lets top-level fields win, and a string input", async () => {
    const fallback = await estimateOf({ request: { model: 'gpt-4o-mini', input: 'Hello' } });
    expect(fallback.estimate).toMatchObject({ completion_tokens: 4096 });
    const topLevel = await estimateOf({
      model: 'o3-mini-2025-01-31',
      max_tokens: 10,
      n: 2,
      request: { model: 'gpt-4o', input: 'Hello', max_output_tokens: 999, n: 5 },
    });
    expect(topLevel).toMatchObject({
      model: 'o3-mini',
      requested_model: 'o3-mini-2025-01-31',
      estimate: { completion_tokens: 20 },
    });
  });

  it('degrades per choice: min_max_tokens holds for each of n choices', async () => {
    const tier = unique('tpm');
    await t.sql(`INSERT INTO tiers (name, tokens_per_minute) VALUES ($1, 1000)`, [tier]);
    const subject = unique('deg');
    await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [subject, tier]);
    let reply = await t.request('GET', `/v1/subjects/${subject}/usage`);
    for (let i = 0; i < 100 && reply.body.tier !== tier; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      reply = await t.request('GET', `/v1/subjects/${subject}/usage`);
    }
    const check = await t.request('POST', '/v1/check', {
      subject,
      min_max_tokens: 50,
      request: { model: 'gpt-4o', input: 'hi', max_output_tokens: 400, n: 4 },
    });
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    const prompt = (check.body.estimate as { prompt_tokens: number }).prompt_tokens;
    // 1000 tokens: the prompt, then what is left for 4 choices.
    expect(check.body.estimate).toMatchObject({ completion_tokens: 1000 - prompt });
    expect(check.body.granted_max_tokens).toBe(Math.floor((1000 - prompt) / 4));
  });

  it('refuses what is wrong with 400 and reserves nothing', async () => {
    const subject = unique('bad');
    const cases: Record<string, unknown>[] = [
      { subject, request: { model: 'gpt-4o' } }, // no input at all
      { subject, request: { input: 'hi' } }, // no model anywhere
      { subject, request: { model: 'gpt-4o', input: 'hi', n: 0 } },
      { subject, request: { model: 'gpt-4o', input: 'hi', max_output_tokens: -1 } },
      { subject, request: { model: 'gpt-4o', input: 42 } },
      { subject, request: { model: 'gpt-4o', input: 'hi', max_output_tokens: 5_000_000, n: 3 } },
      { subject, request: { model: 'gpt-4o', input: 'hi' }, prompt: 'hi' }, // two inputs
      { subject, request: { model: 'gpt-4o', input: 'hi' }, stream: true }, // top level stays strict
      { subject, request: 'a string' },
    ];
    for (const body of cases) {
      const reply = await t.request('POST', '/v1/check', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
    const unknown = await t.request('POST', '/v1/check', {
      subject,
      request: { model: 'gpt-4o-audio-preview-2024-12-17', input: 'hi' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('unknown_model');
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
  });
});

describe('/v1/commit and /v1/refund with the upstream usage object', () => {
  const check = async (model: string) => {
    const reply = await t.request('POST', '/v1/check', {
      subject: unique('usage'),
      request: { model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 500 },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body.reservation_id as string;
  };

  it('prices Chat Completions cached tokens at the cached price, exact in the ledger', async () => {
    const id = await check('gpt-4o-2024-11-20');
    const usage = {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    const reply = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    // 86 × $2.50 + 1920 × $1.25 + 300 × $10 per Mtok = 215 + 2400 + 3000 µ$.
    expect(reply.body).toMatchObject({
      status: 'committed',
      usage: { prompt_tokens: 2006, completion_tokens: 300, cached_tokens: 1920 },
      cost_usd: '0.005615',
    });
    expect(await ledgerRow(id)).toEqual({
      model: 'gpt-4o',
      prompt_tokens: 2006,
      cached_tokens: 1920,
      completion_tokens: 300,
      cost_usd: '0.005615',
      status: 'committed',
    });
    // The same commit again: the same answer, nothing charged twice.
    const again = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(again.body).toMatchObject({ cost_usd: '0.005615' });
  });

  it('prices a Responses usage object (reasoning inside output) with one ceiling', async () => {
    const id = await check('openai/o4-mini-2025-04-16');
    const usage = {
      input_tokens: 1001,
      input_tokens_details: { cached_tokens: 777 },
      output_tokens: 333,
      output_tokens_details: { reasoning_tokens: 200 },
      total_tokens: 1334,
    };
    const reply = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    // 224 × 1.10 + 777 × 0.275 + 333 × 4.40 = 246.4 + 213.675 + 1465.2 = 1925.275 → 1926 µ$.
    expect(reply.body).toMatchObject({
      usage: { prompt_tokens: 1001, completion_tokens: 333, cached_tokens: 777 },
      cost_usd: '0.001926',
    });
    expect(await ledgerRow(id)).toMatchObject({
      model: 'o4-mini',
      cached_tokens: 777,
      cost_usd: '0.001926',
    });
  });

  it('prices cached tokens at the input price where the model publishes no cached price', async () => {
    const id = await check('gpt-4-0613');
    const reply = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: {
        prompt_tokens: 10,
        completion_tokens: 1,
        prompt_tokens_details: { cached_tokens: 5 },
      },
    });
    // 10 × $30 + 1 × $60 per Mtok.
    expect(reply.body).toMatchObject({ cost_usd: '0.000360' });
    expect(await ledgerRow(id)).toMatchObject({ model: 'gpt-4', cached_tokens: 5 });
  });

  it('takes a partial Responses usage at refund, cached tokens priced apart', async () => {
    const id = await check('gpt-5-mini');
    const reply = await t.request('POST', '/v1/refund', {
      reservation_id: id,
      usage: {
        input_tokens: 4000,
        input_tokens_details: { cached_tokens: 4000 },
        output_tokens: 7,
      },
      reason: 'client_disconnected',
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    // 4000 × $0.025 + 7 × $2 per Mtok = 100 + 14 µ$.
    expect(reply.body).toMatchObject({ status: 'refunded', cost_usd: '0.000114' });
    expect(await ledgerRow(id)).toMatchObject({
      prompt_tokens: 4000,
      cached_tokens: 4000,
      completion_tokens: 7,
      cost_usd: '0.000114',
      status: 'refunded',
    });
  });

  it('refuses usage that contradicts itself with 400, leaving the reservation to settle', async () => {
    const id = await check('gpt-4o');
    const bad = [
      { prompt_tokens: 10, input_tokens: 11, completion_tokens: 1 },
      { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 11 } },
      { prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { cached_tokens: -1 } },
    ];
    for (const usage of bad) {
      const reply = await t.request('POST', '/v1/commit', { reservation_id: id, usage });
      expect(reply.status, JSON.stringify(usage)).toBe(400);
      expect(reply.body.error).toBe('invalid_request');
    }
    const partial = await t.request('POST', '/v1/refund', {
      reservation_id: id,
      usage: { input_tokens: 10 },
    });
    expect(partial.status).toBe(400);
    const ok = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: { input_tokens: 10, output_tokens: 1 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ cost_usd: '0.000035' });
  });
});
