import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, Response>;
}
interface Response {
  headers?: Record<string, unknown>;
  content?: Record<
    string,
    { schema?: unknown; example?: unknown; examples?: Record<string, { value: unknown }> }
  >;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
}

let t: TestApp;
let doc: Document;

/** Every /v1 operation and the statuses SPEC §4 says it can answer. */
const EXPECTED: [string, string, string[]][] = [
  ['/v1/check', 'post', ['200', '400', '401', '413', '429', '503']],
  ['/v1/estimate', 'post', ['200', '400', '401', '413']],
  ['/v1/commit', 'post', ['200', '400', '401', '404', '409', '413', '503']],
  ['/v1/refund', 'post', ['200', '400', '401', '404', '409', '413', '503']],
  ['/v1/subjects/{id}/usage', 'get', ['200', '400', '401']],
];

const RATE_LIMIT_HEADERS = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-tokens',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
];

function examplesOf(response: Response | undefined): Record<string, unknown> {
  const json = response?.content?.['application/json'];
  const named = Object.fromEntries(
    Object.entries(json?.examples ?? {}).map(([name, example]) => [name, example.value]),
  );
  return json?.example === undefined ? named : { ...named, example: json.example };
}

const op = (path: string, method: string): Operation => doc.paths[path]![method]!;

/** Key paths of a JSON value (`a`, `a.b`, `a[].c`), to compare documented and real shapes. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item) => keyPaths(item, `${prefix}[]`));
  }
  if (typeof value !== 'object' || value === null) {
    return [];
  }
  return Object.entries(value).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...keyPaths(child, path)];
  });
}

function moneyValues(value: unknown, found: [string, unknown][] = []): [string, unknown][] {
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (/(^|_)usd$/.test(key)) {
        found.push([key, child]);
      }
      moneyValues(child, found);
    }
  }
  return found;
}

beforeAll(async () => {
  t = await startTestApp();
  const response = await fetch(`${t.url}/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as Document;
});

afterAll(async () => {
  await t?.close();
});

describe('the OpenAPI document', () => {
  it('is served without a key, and so is the /docs page', async () => {
    const json = await fetch(`${t.url}/openapi.json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/json/);
    expect(doc.openapi).toMatch(/^3\./);
    const page = await fetch(`${t.url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/swagger/i);
  });

  it('lists every /v1 path with its responses and bearer auth; health is open', () => {
    // The admin API's paths are checked by test/admin/admin-api.test.ts.
    const v1Paths = Object.keys(doc.paths).filter(
      (path) => path.startsWith('/v1') && !path.startsWith('/v1/admin'),
    );
    expect(v1Paths.sort()).toEqual(EXPECTED.map(([path]) => path).sort());
    for (const [path, method, statuses] of EXPECTED) {
      const operation = op(path, method);
      expect(Object.keys(operation.responses).sort(), `${method} ${path}`).toEqual(
        expect.arrayContaining(statuses),
      );
      expect(operation.security, `${method} ${path}`).toEqual([{ bearer: [] }]);
    }
    expect(Object.keys(op('/healthz', 'get').responses)).toContain('200');
    expect(Object.keys(op('/readyz', 'get').responses).sort()).toEqual(['200', '503']);
    expect(op('/healthz', 'get').security ?? []).toEqual([]);
  });

  it('has examples for every endpoint; every error example is { error, message, ... }', () => {
    for (const [path, method, statuses] of EXPECTED) {
      const operation = op(path, method);
      expect(
        Object.keys(examplesOf(operation.responses['200'])).length,
        `${path} 200`,
      ).toBeGreaterThan(0);
      for (const status of statuses.filter((code) => Number(code) >= 400)) {
        const bodies = Object.values(examplesOf(operation.responses[status]));
        expect(bodies.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        for (const body of bodies) {
          expect(body, `${method} ${path} ${status}`).toMatchObject({
            error: expect.stringMatching(/^[a-z_]+$/),
            message: expect.any(String),
          });
        }
      }
    }
    for (const path of ['/healthz', '/readyz']) {
      expect(Object.keys(examplesOf(op(path, 'get').responses['200'])).length).toBeGreaterThan(0);
    }
  });

  it('documents the error codes of each status', () => {
    const codes = (path: string, method: string, status: string) =>
      Object.values(examplesOf(op(path, method).responses[status])).map(
        (body) => (body as { error: string }).error,
      );
    expect(codes('/v1/check', 'post', '400')).toEqual(
      expect.arrayContaining(['invalid_request', 'unknown_model']),
    );
    expect(codes('/v1/check', 'post', '429').sort()).toEqual([
      'concurrency_limit_exceeded',
      'daily_budget_exceeded',
      'exceeds_capacity',
      'monthly_budget_exceeded',
      'rate_limit_exceeded',
    ]);
    expect(new Set(codes('/v1/check', 'post', '401'))).toEqual(new Set(['unauthorized']));
    expect(codes('/v1/check', 'post', '413')).toEqual(['payload_too_large']);
    expect(codes('/v1/check', 'post', '503')).toEqual(['store_unavailable']);
    for (const path of ['/v1/commit', '/v1/refund']) {
      expect(codes(path, 'post', '404')).toEqual(['reservation_not_found']);
      expect(codes(path, 'post', '409')).toEqual(['reservation_conflict']);
      expect(codes(path, 'post', '503').sort()).toEqual([
        'ledger_unavailable',
        'store_unavailable',
      ]);
    }
  });

  it('documents Retry-After and the rate-limit headers', () => {
    const check = op('/v1/check', 'post');
    expect(Object.keys(check.responses['429']!.headers ?? {})).toEqual(
      expect.arrayContaining(['Retry-After', ...RATE_LIMIT_HEADERS]),
    );
    expect(Object.keys(check.responses['200']!.headers ?? {})).toEqual(
      expect.arrayContaining(RATE_LIMIT_HEADERS),
    );
    expect(Object.keys(op('/v1/commit', 'post').responses['200']!.headers ?? {})).toEqual(
      expect.arrayContaining(RATE_LIMIT_HEADERS),
    );
    // exceeds_capacity: no Retry-After and no retry fields in its example.
    const capacity = examplesOf(check.responses['429']).exceeds_capacity as Record<string, unknown>;
    expect(capacity).not.toHaveProperty('retry_after_seconds');
    expect(capacity).not.toHaveProperty('reset_at');
  });

  it('writes money as six-decimal strings in every example', () => {
    const found = moneyValues(doc.paths);
    expect(found.length).toBeGreaterThan(10);
    for (const [key, value] of found) {
      expect(value, key).toMatch(/^\d+\.\d{6}$/);
    }
  });

  it('resolves every $ref to a component schema', () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      const name = /#\/components\/schemas\/([^"]+)/.exec(ref)?.[1];
      expect(name && doc.components.schemas[name], ref).toBeTruthy();
    }
  });

  it('describes the request bodies with examples and bounds', () => {
    const check = doc.components.schemas.CheckRequestDto!.properties!;
    expect(check.subject).toMatchObject({ example: 'user_123', minLength: 1, maxLength: 256 });
    expect(check.max_tokens).toMatchObject({ type: 'integer', minimum: 1, maximum: 10_000_000 });
    expect(check.ttl_seconds).toMatchObject({ type: 'integer', minimum: 1 });
    expect(Object.keys(check)).toEqual(
      expect.arrayContaining([
        'messages',
        'prompt',
        'prompt_tokens',
        'min_max_tokens',
        'idempotency_key',
      ]),
    );
    const commit = doc.components.schemas.CommitRequestDto!.properties!;
    expect(Object.keys(commit).sort()).toEqual(['completion', 'reservation_id', 'usage']);
    const refund = doc.components.schemas.RefundRequestDto!.properties!;
    expect(Object.keys(refund).sort()).toEqual(['completion', 'reason', 'reservation_id', 'usage']);
    expect(doc.components.schemas.ChatMessageDto!.properties!.role).toMatchObject({
      enum: expect.arrayContaining(['system', 'user', 'assistant', 'tool']),
    });
  });

  it('describes `request` (the upstream body) and both upstream usage shapes', () => {
    const schemas = doc.components.schemas;
    expect(schemas.CheckRequestDto!.properties!.request).toEqual({
      $ref: '#/components/schemas/UpstreamRequest',
    });
    expect(schemas.EstimateRequestDto!.properties!.request).toEqual({
      $ref: '#/components/schemas/UpstreamRequest',
    });
    const upstream = schemas.UpstreamRequest as Record<string, unknown> & {
      properties: Record<string, unknown>;
    };
    expect(upstream.additionalProperties).toBe(true);
    expect(Object.keys(upstream.properties)).toEqual(
      expect.arrayContaining(['model', 'messages', 'input', 'instructions', 'tools', 'n']),
    );
    expect(Object.keys(upstream.properties)).toEqual(
      expect.arrayContaining(['max_tokens', 'max_completion_tokens', 'max_output_tokens']),
    );
    for (const name of ['CommitUsageDto', 'RefundUsageDto']) {
      const usage = schemas[name] as Record<string, unknown> & {
        properties: Record<string, { properties?: Record<string, unknown> }>;
      };
      expect(usage.additionalProperties, name).toBe(true);
      expect(usage.properties.prompt_tokens_details!.properties).toHaveProperty('cached_tokens');
      expect(usage.properties.input_tokens_details!.properties).toHaveProperty('cached_tokens');
      expect(Object.keys(usage.properties)).toEqual(
        expect.arrayContaining(['input_tokens', 'output_tokens', 'completion_tokens_details']),
      );
    }
    const settled = schemas.Settled!.properties!.usage as { properties: object };
    expect(Object.keys(settled.properties)).toContain('cached_tokens');
    expect(Object.keys(schemas.CheckAllowed!.properties!)).toContain('requested_model');
  });
});

describe('the documented examples have the shapes the service answers', () => {
  const example = (path: string, method: string, status: string, name: string) =>
    examplesOf(op(path, method).responses[status])[name];

  it('check, commit, refund, estimate, usage and their errors', async () => {
    const subject = unique('openapi');
    const body = { subject, model: 'gpt-4o', prompt_tokens: 1234, max_tokens: 512 };
    const allowed = await t.request('POST', '/v1/check', body);
    expect(allowed.status).toBe(200);
    expect(keyPaths(allowed.body).sort()).toEqual(
      keyPaths(example('/v1/check', 'post', '200', 'allowed')).sort(),
    );
    const id = String(allowed.body.reservation_id);

    const usage = await t.request('GET', `/v1/subjects/${subject}/usage`);
    expect(keyPaths(usage.body).sort()).toEqual(
      keyPaths(example('/v1/subjects/{id}/usage', 'get', '200', 'usage')).sort(),
    );

    const committed = await t.request('POST', '/v1/commit', {
      reservation_id: id,
      usage: { prompt_tokens: 1200, completion_tokens: 300 },
    });
    expect(committed.status).toBe(200);
    expect(keyPaths(committed.body).sort()).toEqual(
      keyPaths(example('/v1/commit', 'post', '200', 'committed')).sort(),
    );
    expect(committed.body.cost_usd).toBe('0.006000');

    const conflict = await t.request('POST', '/v1/refund', { reservation_id: id });
    expect(conflict.status).toBe(409);
    expect(Object.keys(conflict.body).sort()).toEqual(
      Object.keys(example('/v1/refund', 'post', '409', 'reservation_conflict') as object).sort(),
    );

    const second = await t.request('POST', '/v1/check', body);
    const refunded = await t.request('POST', '/v1/refund', {
      reservation_id: second.body.reservation_id,
    });
    expect(keyPaths(refunded.body).sort()).toEqual(
      keyPaths(example('/v1/refund', 'post', '200', 'everything')).sort(),
    );

    const estimate = await t.request('POST', '/v1/estimate', {
      subject,
      model: 'openai/gpt-4o-mini-2024-07-18',
      prompt: 'Summarise this page',
    });
    expect(estimate.body).toEqual({
      ...(example('/v1/estimate', 'post', '200', 'estimate') as object),
      subject,
    });

    const missing = await t.request('POST', '/v1/commit', {
      reservation_id: `${id.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAA`,
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    });
    expect(missing.status).toBe(404);
    expect(Object.keys(missing.body).sort()).toEqual(['error', 'message']);
    expect(missing.body.error).toBe('reservation_not_found');

    const unknownModel = await t.request('POST', '/v1/check', { ...body, model: 'gpt-9' });
    expect(unknownModel.status).toBe(400);
    expect(unknownModel.body).toEqual(example('/v1/check', 'post', '400', 'unknown_model'));
  });

  it('a refusal', async () => {
    const subject = unique('openapi-429');
    const huge = await t.request('POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 50_000,
      max_tokens: 10,
    });
    expect(huge.status).toBe(429);
    expect(keyPaths(huge.body).sort()).toEqual(
      keyPaths(example('/v1/check', 'post', '429', 'exceeds_capacity')).sort(),
    );
    expect(huge.body.message).toBe(
      (example('/v1/check', 'post', '429', 'exceeds_capacity') as { message: string }).message,
    );
  });
});
