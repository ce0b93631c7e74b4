import { expect } from 'vitest';
import type { Reply } from './http.client.js';

const ERROR_OF: Record<string, string> = {
  requests: 'rate_limit_exceeded',
  tokens: 'rate_limit_exceeded',
  model_requests: 'rate_limit_exceeded',
  model_tokens: 'rate_limit_exceeded',
  concurrent: 'concurrency_limit_exceeded',
  daily_cost: 'daily_budget_exceeded',
};

/** A retryable 429 exactly as SPEC §4 describes it, refused on `dimension`. */
export function expectRefusal(reply: Reply, dimension: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(429);
  const body = reply.body;
  expect(body.error).toBe(ERROR_OF[dimension]);
  expect(body.dimension).toBe(dimension);
  expect(typeof body.message).toBe('string');
  expect(String(body.message)).toMatch(/retry in \d+ s\.$/);
  const retryAfter = Number(reply.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(body.retry_after_seconds).toBe(retryAfter);
  expect(String(body.reset_at)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  expect(body).toHaveProperty('limit');
  expect(body).toHaveProperty('remaining');
  expect(typeof body.limits).toBe('object');
}

/** Sends `count` requests at once and returns the replies in order. */
export async function concurrently(
  count: number,
  send: (index: number) => Promise<Reply>,
): Promise<{ replies: Reply[]; elapsedMs: number }> {
  const started = performance.now();
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  return { replies, elapsedMs: performance.now() - started };
}
