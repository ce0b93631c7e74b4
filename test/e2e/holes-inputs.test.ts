import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

/** SPEC §4, §7: bad input of any kind is a 4xx with the error body, changes nothing, never 5xx. */
let t: TestApp;

const raw = (path: string, init: RequestInit = {}) =>
  fetch(`${t.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${t.key}`, ...(init.headers as Record<string, string>) },
  });
const postJson = (path: string, text: string | Uint8Array) =>
  raw(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });

async function errorBody(response: Response): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  expect(Object.keys(body)).not.toContain('statusCode');
  expect(typeof body.error).toBe('string');
  expect(typeof body.message).toBe('string');
  return body;
}

const checkText = (subjectJson: string) =>
  `{"subject":${subjectJson},"model":"gpt-4o-mini","prompt_tokens":10,"max_tokens":10}`;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('ids that are not well-formed Unicode', () => {
  it('refuses unpaired surrogates with 400 and charges no one', async () => {
    const base = unique('sg2');
    for (const escape of ['\\ud800', '\\udfff', '\\udc00x', 'x\\udbff']) {
      const reply = await postJson('/v1/check', checkText(`"${base}${escape}"`));
      expect(reply.status, escape).toBe(400);
      expect((await errorBody(reply)).error).toBe('malformed_unicode');
    }
    // Raw bytes that are not UTF-8 (a surrogate encoded as UTF-8, ED A0 80).
    const bytes = Buffer.concat([
      Buffer.from(`{"subject":"${base}`),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('","model":"gpt-4o-mini","prompt_tokens":10}'),
    ]);
    const invalid = await postJson('/v1/check', bytes);
    expect(invalid.status).toBe(400);
    expect((await errorBody(invalid)).error).toBe('malformed_unicode');
    // The replacement character's subject was never charged for them.
    const usage = await t.request(
      'GET',
      `/v1/subjects/${encodeURIComponent(`${base}\ufffd`)}/usage`,
    );
    expect(usage.status).toBe(200);
    const limits = usage.body.limits as Record<string, { limit: number; remaining: number }>;
    expect(limits.requests!.remaining).toBe(limits.requests!.limit);
  });

  it('accepts a well-formed surrogate pair, escaped or not', async () => {
    const base = unique('emoji');
    const escaped = await postJson('/v1/check', checkText(`"${base}\\ud83d\\ude00"`));
    expect(escaped.status).toBe(200);
    const plain = await postJson('/v1/check', checkText(`"${base}😀"`));
    expect(plain.status).toBe(200);
    const [a, b] = [await escaped.json(), await plain.json()];
    expect((a as { subject: string }).subject).toBe(`${base}😀`);
    expect((b as { subject: string }).subject).toBe(`${base}😀`);
  });
});

describe('bodies', () => {
  it('answers a form-encoded body with 415 and the error body, reserving nothing', async () => {
    const subject = unique('form');
    const reply = await raw('/v1/check', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `subject=${subject}&model=gpt-4o-mini&prompt_tokens=10`,
    });
    expect(reply.status).toBe(415);
    expect((await errorBody(reply)).error).toBe('unsupported_media_type');
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    const limits = usage.body.limits as Record<string, { limit: number; remaining: number }>;
    expect(limits.requests!.remaining).toBe(limits.requests!.limit);
  });

  it('answers bodies nested 10,000 levels deep with 400, wherever the nesting is', async () => {
    const deepArray = '['.repeat(10_000) + ']'.repeat(10_000);
    const deepObject = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const bodies = [
      deepArray,
      deepObject,
      checkText('"deep"').replace('}', `,"extra":${deepObject}}`),
      checkText('"deep"').replace('}', `,"request":${deepObject}}`),
      `{"subject":"deep","model":"gpt-4o-mini","messages":[{"role":"user","content":${deepArray}}]}`,
      `{"subject":"deep","model":"gpt-4o-mini","prompt":"hi","tools":[{"type":"function","function":{"name":"f","parameters":${deepObject}}}]}`,
    ];
    for (const [i, body] of bodies.entries()) {
      for (const path of ['/v1/check', '/v1/estimate', '/v1/commit']) {
        const reply = await postJson(path, body);
        expect(reply.status, `${path} body ${i}`).toBe(400);
        await errorBody(reply);
      }
    }
  });
});

describe('framework errors answer the error body', () => {
  it('a bad percent-escape: 400', async () => {
    const reply = await raw('/v1/subjects/%ZZ/usage');
    expect(reply.status).toBe(400);
    expect((await errorBody(reply)).error).toBe('invalid_url');
  });

  it('a path parameter longer than any id: 414', async () => {
    const reply = await raw(`/v1/subjects/${'a'.repeat(5_000)}/usage`);
    expect(reply.status).toBe(414);
    expect((await errorBody(reply)).error).toBe('uri_too_long');
  });

  it('headers larger than the server reads: 431', async () => {
    const reply = await raw('/v1/subjects/a/usage', { headers: { 'x-big': 'a'.repeat(20_000) } });
    expect(reply.status).toBe(431);
    expect((await errorBody(reply)).error).toBe('headers_too_large');
  });
});

describe('/v1/estimate takes the same input as check', () => {
  it('accepts and ignores idempotency_key, min_max_tokens and ttl_seconds', async () => {
    const subject = unique('estimate');
    const body = { subject, model: 'gpt-4o-mini', prompt: 'hi', max_tokens: 100 };
    const plain = await t.request('POST', '/v1/estimate', body);
    const withCheckFields = await t.request('POST', '/v1/estimate', {
      ...body,
      idempotency_key: 'k',
      min_max_tokens: 10,
      ttl_seconds: 5,
    });
    expect(withCheckFields.status).toBe(200);
    expect(withCheckFields.body).toEqual(plain.body);
    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(usage.body.in_flight).toEqual([]);
  });
});

describe('refused settlements carry the rate-limit headers', () => {
  it('a commit after a refund (409) and a refund after a commit (409)', async () => {
    const subject = unique('headers');
    const check = () =>
      t.request('POST', '/v1/check', { subject, model: 'gpt-4o-mini', prompt_tokens: 10 });
    const usage = { prompt_tokens: 10, completion_tokens: 5 };
    const refunded = await check();
    expect(
      (await t.request('POST', '/v1/refund', { reservation_id: refunded.body.reservation_id }))
        .status,
    ).toBe(200);
    const commit = await t.request('POST', '/v1/commit', {
      reservation_id: refunded.body.reservation_id,
      usage,
    });
    expect(commit.status).toBe(409);
    expect(commit.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(commit.headers.get('x-ratelimit-remaining-requests')).toMatch(/^\d+$/);
    expect(commit.headers.get('x-ratelimit-limit')).toBe('10');

    const committed = await check();
    expect(
      (
        await t.request('POST', '/v1/commit', {
          reservation_id: committed.body.reservation_id,
          usage,
        })
      ).status,
    ).toBe(200);
    const refund = await t.request('POST', '/v1/refund', {
      reservation_id: committed.body.reservation_id,
    });
    expect(refund.status).toBe(409);
    expect(refund.headers.get('x-ratelimit-limit-tokens')).toBe('10000');
  });
});
