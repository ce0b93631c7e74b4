import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

let t: TestApp;
const subject = unique('victim');

const check = (fields: Record<string, unknown>) => ({
  subject,
  model: 'gpt-4o-mini',
  prompt_tokens: 10,
  max_tokens: 10,
  ...fields,
});
const without = (field: string) =>
  Object.fromEntries(Object.entries(check({})).filter(([name]) => name !== field));
let nested: Record<string, unknown> = { type: 'string' };
for (let i = 0; i < 100; i += 1) {
  nested = { type: 'object', properties: { x: nested } };
}

interface Case {
  name: string;
  path?: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: string;
}

const CASES: Case[] = [
  { name: 'malformed JSON', body: '{"subject":', status: 400, error: 'invalid_json' },
  { name: 'a JSON array', body: '[]', status: 400, error: 'invalid_request' },
  { name: 'a JSON string', body: '"hello"', status: 400, error: 'invalid_request' },
  { name: 'JSON null', body: 'null', status: 400, error: 'invalid_request' },
  {
    name: 'wrong content type',
    body: 'subject=x',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    error: 'unsupported_media_type',
  },
  {
    name: 'a body over the limit',
    body: check({ prompt: 'x'.repeat(1_100_000), prompt_tokens: undefined }),
    status: 413,
    error: 'payload_too_large',
  },
  { name: 'no subject', body: without('subject'), status: 400, error: 'invalid_request' },
  { name: 'empty subject', body: check({ subject: '' }), status: 400, error: 'invalid_request' },
  {
    name: 'subject of 257 characters',
    body: check({ subject: 's'.repeat(257) }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'subject with a control character',
    body: check({ subject: `${subject}\u0001` }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'subject with a newline',
    body: check({ subject: `${subject}\n` }),
    status: 400,
    error: 'invalid_request',
  },
  { name: 'numeric subject', body: check({ subject: 123 }), status: 400, error: 'invalid_request' },
  { name: 'no model', body: without('model'), status: 400, error: 'invalid_request' },
  {
    name: 'unknown model',
    body: check({ model: 'gpt-nonexistent-9' }),
    status: 400,
    error: 'unknown_model',
  },
  { name: 'no input form', body: without('prompt_tokens'), status: 400, error: 'invalid_request' },
  { name: 'two input forms', body: check({ prompt: 'hi' }), status: 400, error: 'invalid_request' },
  {
    name: 'negative prompt_tokens',
    body: check({ prompt_tokens: -1 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'fractional prompt_tokens',
    body: check({ prompt_tokens: 1.5 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'absurd prompt_tokens',
    body: check({ prompt_tokens: 1e12 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'prompt_tokens as a string',
    body: check({ prompt_tokens: '10' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'zero max_tokens',
    body: check({ max_tokens: 0 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'negative max_tokens',
    body: check({ max_tokens: -5 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'max_tokens and its alias disagree',
    body: check({ max_completion_tokens: 11 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'min_max_tokens above max_tokens',
    body: check({ min_max_tokens: 11 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'ttl_seconds zero',
    body: check({ ttl_seconds: 0 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'ttl_seconds above the maximum',
    body: check({ ttl_seconds: 3601 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'fractional ttl_seconds',
    body: check({ ttl_seconds: 1.5 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'an unknown field',
    body: check({ temperature: 0.2 }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'empty messages',
    body: check({ prompt_tokens: undefined, messages: [] }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'messages not a list',
    body: check({ prompt_tokens: undefined, messages: 'hi' }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a message with an unknown role',
    body: check({ prompt_tokens: undefined, messages: [{ role: 'wizard', content: 'hi' }] }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a message whose content is a number',
    body: check({ prompt_tokens: undefined, messages: [{ role: 'user', content: 42 }] }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a content part of unknown type',
    body: check({
      prompt_tokens: undefined,
      messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }],
    }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'a message with an unknown field',
    body: check({
      prompt_tokens: undefined,
      messages: [{ role: 'user', content: 'hi', mood: 'happy' }],
    }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'malformed tool_calls',
    body: check({
      prompt_tokens: undefined,
      messages: [{ role: 'assistant', tool_calls: [{ function: { name: 5 } }] }],
    }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'tools without messages',
    body: check({ tools: [{ type: 'function', function: { name: 'f' } }] }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'absurdly nested tool parameters',
    body: check({
      prompt_tokens: undefined,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: nested } }],
    }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'too many messages',
    body: check({
      prompt_tokens: undefined,
      messages: Array.from({ length: 5000 }, () => ({ role: 'user', content: 'x' })),
    }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'idempotency_key too long',
    body: check({ idempotency_key: 'k'.repeat(300) }),
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'estimate with unknown model',
    path: '/v1/estimate',
    body: { subject, model: 'nope', prompt: 'hi' },
    status: 400,
    error: 'unknown_model',
  },
  {
    name: 'estimate with a ttl that is no whole number (check fields are read, then ignored)',
    path: '/v1/estimate',
    body: { subject, model: 'gpt-4o', prompt: 'hi', ttl_seconds: 0.5 },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'commit without reservation_id',
    path: '/v1/commit',
    body: { usage: { prompt_tokens: 1, completion_tokens: 1 } },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'commit of an unknown reservation',
    path: '/v1/commit',
    body: {
      reservation_id: 'no-such-reservation',
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    },
    status: 404,
    error: 'reservation_not_found',
  },
  {
    name: 'commit with negative usage',
    path: '/v1/commit',
    body: { reservation_id: 'r', usage: { prompt_tokens: 1, completion_tokens: -1 } },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'commit with both completion text and count',
    path: '/v1/commit',
    body: {
      reservation_id: 'r',
      usage: { prompt_tokens: 1, completion_tokens: 1 },
      completion: 'hi',
    },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'commit with no completion at all',
    path: '/v1/commit',
    body: { reservation_id: 'r' },
    status: 400,
    error: 'invalid_request',
  },
  {
    // The upstream's usage object is taken as it came (unknown fields ignored), not its types.
    name: 'commit usage with cached tokens that are no count',
    path: '/v1/commit',
    body: {
      reservation_id: 'r',
      usage: {
        prompt_tokens: 1,
        completion_tokens: 1,
        prompt_tokens_details: { cached_tokens: 'x' },
      },
    },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'refund usage without completion_tokens',
    path: '/v1/refund',
    body: { reservation_id: 'r', usage: { prompt_tokens: 1 } },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'refund reason with control characters',
    path: '/v1/refund',
    body: { reservation_id: 'r', reason: 'a\u0007b' },
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'refund of an unknown reservation',
    path: '/v1/refund',
    body: { reservation_id: 'nope' },
    status: 404,
    error: 'reservation_not_found',
  },
  {
    name: 'usage of a subject with a control character',
    method: 'GET',
    path: `/v1/subjects/${subject}%01/usage`,
    status: 400,
    error: 'invalid_request',
  },
  {
    name: 'check without a key',
    body: check({}),
    headers: { authorization: '' },
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'check with a malformed Authorization',
    body: check({}),
    headers: { authorization: 'Basic abc' },
    status: 401,
    error: 'unauthorized',
  },
  { name: 'an unknown route', path: '/v1/chekc', body: check({}), status: 404, error: 'not_found' },
];

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('every wrong request gets a clear 4xx and changes nothing', () => {
  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('$name → $status $error', async (c) => {
    const reply = await t.request(c.method ?? 'POST', c.path ?? '/v1/check', c.body, c.headers);
    expect(reply.status).toBe(c.status);
    expect(reply.body.error).toBe(c.error);
    expect(typeof reply.body.message).toBe('string');
    expect(String(reply.body.message).length).toBeGreaterThan(10);
  });

  it('left the subject uncharged: full buckets, nothing in flight, no ledger row', async () => {
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.in_flight).toEqual([]);
    const limits = usage.body.limits as Record<string, { limit: number; remaining: number }>;
    expect(limits.requests!.remaining).toBe(limits.requests!.limit);
    expect(limits.tokens!.remaining).toBe(limits.tokens!.limit);
    const rows = await t.sql('SELECT count(*)::int AS n FROM usage_ledger WHERE subject = $1', [
      subject,
    ]);
    expect(rows.rows[0].n).toBe(0);
    // And the subject still works: a good check is allowed.
    const ok = await t.request('POST', '/v1/check', check({}));
    expect(ok.status).toBe(200);
  });
});
