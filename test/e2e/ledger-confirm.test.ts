import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubjectKeys } from '#budget';
import { type TestApp, eventually, startTestApp } from '../support/app.harness.js';
import { createTier, subjectOnTier } from '../support/fixtures.js';

/**
 * A commit answered 200 is in the ledger, and the store learns so right after: the settlement
 * leaves the subject's pending ledger within moments, by the commit path itself (the sweeper
 * would only re-append it after 10 s). Commits of one group-commit batch are confirmed together.
 */
describe('ledger confirmation of commits (Redis store)', () => {
  let app: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    app = await startTestApp();
    redis = new Redis(app.redisUrl);
  });

  afterAll(async () => {
    redis?.disconnect();
    await app?.close();
  });

  it('leaves no committed settlement pending, for concurrent commits of one subject', async () => {
    // A tier that limits every dimension generously: none refuses the 20 at once.
    const tier = await createTier(app.sql, 'confirm', {
      requestsPerMinute: 1_000,
      tokensPerMinute: 1_000_000,
      maxConcurrent: 100,
      dailyCostLimitUsd: '100',
    });
    const subject = await subjectOnTier(app.sql, tier, [app.request], 'confirm');
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const check = await app.request('POST', '/v1/check', {
          subject,
          model: 'gpt-4o-mini',
          prompt_tokens: 100,
          max_tokens: 50,
        });
        expect(check.status, JSON.stringify(check.body)).toBe(200);
        const id = String(check.body.reservation_id);
        const commit = await app.request('POST', '/v1/commit', {
          reservation_id: id,
          usage: { prompt_tokens: 100, completion_tokens: 20 },
        });
        expect(commit.status, JSON.stringify(commit.body)).toBe(200);
        return id;
      }),
    );
    const { rows } = await app.sql(
      'SELECT count(*)::int AS n FROM usage_ledger WHERE reservation_id = ANY($1)',
      [ids],
    );
    expect(rows[0].n).toBe(20);
    const keys = SubjectKeys.of(app.keyPrefix, subject);
    await eventually(async () => {
      expect(await redis.zcard(keys.pending)).toBe(0);
      expect(await redis.zscore(keys.group.unconfirmed, keys.tag)).toBeNull();
    }, 2_000);
  });
});
