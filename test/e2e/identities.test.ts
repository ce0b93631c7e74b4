import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';

/** SPEC §2, §4: any valid subject id (1–256 characters, percent-encoded in the path) works. */
let t: TestApp;
/** The process warnings emitted while the service started (Fastify's deprecations among them). */
const warnings: string[] = [];

beforeAll(async () => {
  const collect = (warning: Error & { code?: string }): void => {
    warnings.push(`${warning.code ?? warning.name}: ${warning.message}`);
  };
  process.on('warning', collect);
  try {
    t = await startTestApp();
    // A warning is emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', collect);
  }
});

afterAll(async () => {
  await t?.close();
});

describe('long subject ids', () => {
  it('are allowed by the router options without a Fastify deprecation warning', () => {
    expect(warnings.filter((warning) => warning.startsWith('FSTDEP'))).toEqual([]);
  });

  const ids = [
    `${unique('a')}_${'x'.repeat(101)}`.slice(0, 101),
    `${unique('b')}_${'y'.repeat(256)}`.slice(0, 256),
    // 256 characters, 768 bytes of UTF-8, 2,304 characters percent-encoded.
    `${unique('c')}${'€'.repeat(256)}`.slice(0, 256),
  ];

  it.each(ids.map((id) => [id.length, id]))(
    'an id of %i characters works in /v1/check and /v1/subjects/{id}/usage',
    async (_length, id) => {
      const check = await t.request('POST', '/v1/check', {
        subject: id,
        model: 'gpt-4o-mini',
        prompt_tokens: 10,
        max_tokens: 10,
      });
      expect(check.status).toBe(200);
      const usage = await t.request('GET', `/v1/subjects/${encodeURIComponent(id)}/usage`);
      expect(usage.status, JSON.stringify(usage.body)).toBe(200);
      expect(usage.body.subject).toBe(id);
      expect(usage.body.in_flight).toHaveLength(1);
    },
  );
});
