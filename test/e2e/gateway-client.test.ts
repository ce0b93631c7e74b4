import { type AddressInfo } from 'node:net';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetRefusedError, TokenBudget } from '#client';
import { createGateway } from '../../apps/gateway/src/gateway.js';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

/**
 * SPEC §8: the client library and the example gateway, driven by the official `openai` package
 * against a local fake upstream. After each scenario the ledger holds exactly what the upstream
 * reported (or what its text counts), and nothing is left in flight.
 */
let t: TestApp;
let upstream: Server;
let gateway: Server;
let proxy: Server;
let openai: OpenAI;
const seen: Record<string, unknown>[] = [];
/** Calls to the service the flaky proxy sabotages next: path → what to do. */
const sabotage = new Map<string, 'drop_after_forwarding' | 'answer_503'>();
const forwarded: string[] = [];

const o200kRef = new Tiktoken(o200k);
const tokens = (text: string): number => o200kRef.encode(text).length;

/** gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per Mtok (pico-dollars/token). */
function costUsd(prompt: number, cached: number, completion: number): string {
  const picos =
    BigInt(prompt - cached) * 150_000n + BigInt(cached) * 75_000n + BigInt(completion) * 600_000n;
  const micros = (picos + 999_999n) / 1_000_000n;
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}

const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-fake',
  object: 'chat.completion.chunk',
  created: 1_764_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, delta, finish_reason: null }],
  ...extra,
});

/** The fake OpenAI: what it does is named by the last user message. */
async function fakeOpenAi(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
  seen.push(body);
  const messages = body.messages as { content: string }[];
  const scenario = messages.at(-1)!.content;
  const sse = (events: unknown[]) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const event of events) {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    }
  };
  switch (scenario) {
    case 'json':
    case 'slow': {
      if (scenario === 'slow') {
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion',
          created: 1_764_000_000,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'Hello there.', refusal: null },
              finish_reason: 'stop',
            },
          ],
          usage: {
            prompt_tokens: 1200,
            completion_tokens: 7,
            total_tokens: 1207,
            prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
            completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
          },
        }),
      );
      return;
    }
    case 'stream with usage':
      sse([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'Hel' }),
        chunk({ content: 'lo' }),
        { ...chunk({}), choices: [], usage: { prompt_tokens: 20, completion_tokens: 2 } },
      ]);
      res.end('data: [DONE]\n\n');
      return;
    case 'stream without usage':
      sse([
        chunk({ role: 'assistant', content: '' }),
        chunk({ content: 'The quick brown fox ' }),
        chunk({ content: 'jumps over the lazy dog.' }),
      ]);
      res.end('data: [DONE]\n\n');
      return;
    case 'stream cut':
      sse([chunk({ role: 'assistant', content: 'Once upon ' }), chunk({ content: 'a time' })]);
      // Let the two chunks reach the gateway, then the connection dies without [DONE].
      setTimeout(() => res.destroy(), 100);
      return;
    default:
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: 'The server had an error', type: 'server_error' } }),
      );
  }
}

/** Between the client and the service: loses an answer or answers 503 once, when told to. */
async function flakyProxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) {
    parts.push(part as Buffer);
  }
  const path = req.url!;
  const trick = sabotage.get(path);
  sabotage.delete(path);
  if (trick === 'answer_503') {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '0' });
    res.end(JSON.stringify({ error: 'store_unavailable', message: 'Try again.' }));
    return;
  }
  forwarded.push(path);
  const answer = await fetch(`${t.url}${path}`, {
    method: req.method,
    headers: { authorization: req.headers.authorization!, 'content-type': 'application/json' },
    body: req.method === 'GET' ? undefined : Buffer.concat(parts),
  });
  const text = await answer.text();
  if (trick === 'drop_after_forwarding') {
    res.socket?.destroy(); // The service acted; its answer is lost on the way.
    return;
  }
  res.writeHead(answer.status, Object.fromEntries(answer.headers));
  res.end(text);
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function ledgerOf(subject: string): Promise<Record<string, unknown>[]> {
  const { rows } = await t.sql(
    `SELECT status, prompt_tokens, cached_tokens, completion_tokens, cost_usd::text AS cost_usd
     FROM usage_ledger WHERE subject = $1`,
    [subject],
  );
  return rows as Record<string, unknown>[];
}

async function inFlight(subject: string): Promise<unknown[]> {
  const reply = await t.request('GET', `/v1/subjects/${encodeURIComponent(subject)}/usage`);
  return reply.body.in_flight as unknown[];
}

/** The subject's ledger holds exactly this one settlement, priced from its tokens; nothing is in flight. */
async function expectSettledOnce(
  subject: string,
  status: 'committed' | 'refunded',
  tokens: { prompt: number; cached?: number; completion: number },
): Promise<void> {
  const { prompt, cached = 0, completion } = tokens;
  expect(await ledgerOf(subject)).toEqual([
    {
      status,
      prompt_tokens: prompt,
      cached_tokens: cached,
      completion_tokens: completion,
      cost_usd: costUsd(prompt, cached, completion),
    },
  ]);
  expect(await inFlight(subject)).toEqual([]);
}

/** The prompt tokens the service counts for this request (what a text-only settlement charges). */
async function promptTokensOf(request: Record<string, unknown>): Promise<number> {
  const reply = await t.request('POST', '/v1/estimate', { subject: 'x', request });
  return (reply.body.estimate as { prompt_tokens: number }).prompt_tokens;
}

let budget: TokenBudget;

beforeAll(async () => {
  t = await startTestApp();
  upstream = createServer((req, res) => void fakeOpenAi(req, res));
  proxy = createServer((req, res) => void flakyProxy(req, res));
  const upstreamUrl = await listen(upstream);
  budget = new TokenBudget({ baseUrl: await listen(proxy), apiKey: t.key, baseDelayMs: 20 });
  gateway = createGateway({ budget, upstreamUrl, upstreamApiKey: 'sk-fake' });
  openai = new OpenAI({
    apiKey: 'sk-gateway-user',
    baseURL: `${await listen(gateway)}/v1`,
    maxRetries: 0,
  });
});

afterAll(async () => {
  for (const server of [gateway, proxy, upstream]) {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
  await t?.close();
});

const ask = (scenario: string) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: scenario },
  ],
  max_tokens: 100,
  temperature: 0.2,
});

/** Streams `scenario` through the gateway: the text received, and the error that ended it early. */
async function streamed(
  scenario: string,
  user: string,
): Promise<{ text: string; error?: unknown }> {
  const stream = await openai.chat.completions.create({ ...ask(scenario), user, stream: true });
  let text = '';
  try {
    for await (const part of stream) {
      text += part.choices[0]?.delta?.content ?? '';
    }
  } catch (error) {
    return { text, error };
  }
  return { text };
}

describe('the official openai client through the example gateway', () => {
  it('JSON: commits the upstream usage, cached tokens priced apart; the upstream got the cap', async () => {
    const user = unique('json');
    const completion = await openai.chat.completions.create({ ...ask('json'), user });
    expect(completion.choices[0]!.message.content).toBe('Hello there.');
    expect(seen.at(-1)).toMatchObject({ max_completion_tokens: 100, temperature: 0.2 });
    expect(seen.at(-1)).not.toHaveProperty('max_tokens');
    await expectSettledOnce(user, 'committed', { prompt: 1200, cached: 1024, completion: 7 });
  });

  it('SSE with a final usage chunk: passes every chunk through, commits the usage', async () => {
    const user = unique('stream');
    expect(await streamed('stream with usage', user)).toEqual({ text: 'Hello' });
    expect(seen.at(-1)).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    await expectSettledOnce(user, 'committed', { prompt: 20, completion: 2 });
  });

  it('SSE without usage: commits the prompt counted at check and the streamed text counted', async () => {
    const user = unique('nousage');
    const text = 'The quick brown fox jumps over the lazy dog.';
    expect(await streamed('stream without usage', user)).toEqual({ text });
    const prompt = await promptTokensOf({ ...ask('stream without usage'), user, stream: true });
    await expectSettledOnce(user, 'committed', { prompt, completion: tokens(text) });
  });

  it('SSE cut in the middle: the client sees the failure, the partial text is refunded as used', async () => {
    const user = unique('cut');
    const { text, error } = await streamed('stream cut', user);
    expect(error).toBeInstanceOf(Error);
    expect(text).toBe('Once upon a time');
    const prompt = await promptTokensOf({ ...ask('stream cut'), user, stream: true });
    await expectSettledOnce(user, 'refunded', { prompt, completion: tokens(text) });
  });

  it('an upstream 500: the client gets the 500, the reservation is refunded at zero cost', async () => {
    const user = unique('fail');
    const failed = await openai.chat.completions.create({ ...ask('fail'), user }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    await expectSettledOnce(user, 'refunded', { prompt: 0, completion: 0 });
  });

  it('a slow answer: held in flight meanwhile, committed with its usage when it comes', async () => {
    const user = unique('slow');
    const pending = openai.chat.completions.create({ ...ask('slow'), user });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await inFlight(user)).toHaveLength(1);
    expect((await pending).choices[0]!.message.content).toBe('Hello there.');
    await expectSettledOnce(user, 'committed', { prompt: 1200, cached: 1024, completion: 7 });
  });

  it('a refusal is a 429 with the Retry-After of the refusal', async () => {
    const tier = unique('tiny');
    await t.sql(`INSERT INTO tiers (name, requests_per_minute) VALUES ($1, 1)`, [tier]);
    const user = unique('refused');
    await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [user, tier]);
    await expect
      .poll(async () => (await t.request('GET', `/v1/subjects/${user}/usage`)).body.tier)
      .toBe(tier);
    await openai.chat.completions.create({ ...ask('json'), user });
    const refused = await openai.chat.completions.create({ ...ask('json'), user }).then(
      () => undefined,
      (error: unknown) => error as InstanceType<typeof OpenAI.APIError>,
    );
    expect(refused?.status).toBe(429);
    const retryAfter = Number(refused?.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await ledgerOf(user)).map((row) => row.status)).toEqual(['committed']);
  });
});

describe('the client library', () => {
  it('retries a check whose answer was lost without reserving twice, and a commit after a 503', async () => {
    const user = unique('retry');
    sabotage.set('/v1/check', 'drop_after_forwarding');
    sabotage.set('/v1/commit', 'answer_503');
    const before = forwarded.length;
    const result = await budget.run({ subject: user, request: ask('json') }, (granted) => ({
      usage: { prompt_tokens: 10, completion_tokens: granted.max_tokens },
    }));
    expect(result.usage.completion_tokens).toBe(100);
    // Two checks reached the service (the first one's answer was lost), one commit.
    expect(forwarded.slice(before)).toEqual(['/v1/check', '/v1/check', '/v1/commit']);
    await expectSettledOnce(user, 'committed', { prompt: 10, completion: 100 });
    const usage = await budget.usage(user);
    expect(usage.today.requests).toBe(1);
  });

  it('returns a refusal as a typed error with retryAfterSeconds; waitForBudget waits within the deadline', async () => {
    const tier = unique('tokens60');
    // 60 tokens per minute: once they are used, 2 more fit in about 2 s.
    await t.sql(`INSERT INTO tiers (name, tokens_per_minute) VALUES ($1, 60)`, [tier]);
    const user = unique('wait');
    await t.sql('INSERT INTO subjects (id, tier) VALUES ($1, $2)', [user, tier]);
    await expect.poll(async () => (await budget.usage(user)).tier).toBe(tier);
    const small = { subject: user, model: 'gpt-4o-mini', prompt_tokens: 1, max_tokens: 1 };
    expect((await budget.check({ ...small, max_tokens: 59 })).allowed).toBe(true);
    const refused = await budget.check(small);
    expect(refused.allowed).toBe(false);
    const refusal = (refused as { refusal: BudgetRefusedError }).refusal;
    expect(refusal).toBeInstanceOf(BudgetRefusedError);
    expect(refusal.code).toBe('rate_limit_exceeded');
    expect(refusal.dimension).toBe('tokens');
    expect(refusal.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refusal.retryAfterSeconds).toBeLessThanOrEqual(2);
    await expect(
      budget.run(
        { subject: user, prompt_tokens: 1, model: 'gpt-4o-mini', max_tokens: 1 },
        () => ({}),
      ),
    ).rejects.toBeInstanceOf(BudgetRefusedError);
    // Never past the deadline: a wait longer than it is not taken.
    const started = Date.now();
    const tooLate = await budget.check(small, { waitForBudget: true, deadlineMs: 300 });
    expect(tooLate.allowed).toBe(false);
    expect(Date.now() - started).toBeLessThan(300);
    const waited = await budget.check(small, { waitForBudget: true, deadlineMs: 6_000 });
    expect(waited.allowed).toBe(true);
  });
});
