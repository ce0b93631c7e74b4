import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApiClient } from '../support/api-clients.js';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { httpClient } from '../support/http.client.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';
import { testEnv } from '../support/test-env.js';

/** One JSON line per request at info: request id and decision fields, never the key or prompt. */

let t: TestApp;
let service: ServiceProcess;
let key: string;

beforeAll(async () => {
  t = await startTestApp();
  ({ key } = await insertApiClient(t.sql, 'request-log'));
  const { databaseUrl, redisUrl, keyPrefix } = testEnv();
  service = await startServiceProcess({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  await service?.stop();
  await t?.close();
});

function requestLines(): Record<string, unknown>[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.msg === 'request completed');
}

describe('request logs', () => {
  it('logs one line per check with its request id and decision, and no secret', async () => {
    const subject = unique('log-subject');
    const prompt = `secret prompt ${randomBytes(8).toString('hex')}`;
    const reply = await httpClient(service.url, key)(
      'POST',
      '/v1/check',
      { subject, model: 'gpt-4o-mini', prompt, max_tokens: 10 },
      { 'x-request-id': 'log-test-1' },
    );
    expect(reply.status).toBe(200);

    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !line; i++) {
      line = requestLines().find((entry) => entry.request_id === 'log-test-1');
      if (!line) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(line).toMatchObject({
      level: 30,
      request_id: 'log-test-1',
      method: 'POST',
      url: '/v1/check',
      status: 200,
      response_ms: expect.any(Number),
      subject,
      tier: expect.any(String),
      model: 'gpt-4o-mini',
      decision: 'allowed',
      reservation_id: reply.body.reservation_id,
    });
    expect(service.output()).not.toContain(key);
    expect(service.output()).not.toContain(prompt);
  });
});
