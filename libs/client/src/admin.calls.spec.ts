import { describe, expect, it } from 'vitest';
import { NotFoundError, ServiceUnavailableError } from './client.errors.js';
import { TokenBudgetClient } from './token-budget.client.js';

/** A fetch that answers `statuses` in turn (the last one again) and records every request. */
function fakeFetch(statuses: number[], body: unknown = {}) {
  const seen: { method: string; url: string; accept: string | null; body: unknown }[] = [];
  const fetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    seen.push({
      method: init?.method ?? 'GET',
      url: String(input),
      accept: headers.get('accept'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    const status = statuses[Math.min(seen.length - 1, statuses.length - 1)]!;
    const answer =
      status >= 400
        ? { error: status === 404 ? 'not_found' : 'service_unavailable', message: 'no' }
        : body;
    return Promise.resolve(
      new Response(status === 204 ? null : JSON.stringify(answer), { status }),
    );
  };
  const client = new TokenBudgetClient({
    baseUrl: 'http://budget.test/',
    apiKey: 'tb_admin',
    fetch: fetch as typeof globalThis.fetch,
    baseDelayMs: 1,
    maxDelayMs: 1,
    maxAttempts: 3,
  });
  return { admin: client.admin, seen };
}

describe('admin calls', () => {
  it('never send a new key or a rotation twice, even after a 5xx', async () => {
    const create = fakeFetch([503]);
    await expect(create.admin.createKey('gw', 'admin')).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(create.seen).toEqual([
      {
        method: 'POST',
        url: 'http://budget.test/v1/admin/keys',
        accept: null,
        body: { name: 'gw', role: 'admin' },
      },
    ]);
    const rotate = fakeFetch([503]);
    await expect(rotate.admin.rotateKey('gw/eu', 30)).rejects.toBeInstanceOf(
      ServiceUnavailableError,
    );
    expect(rotate.seen.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', 'http://budget.test/v1/admin/keys/gw%2Feu/rotate', { grace_seconds: 30 }],
    ]);
  });

  it('retry idempotent PUTs, DELETEs and reads after a 5xx, not after a 4xx', async () => {
    const put = fakeFetch([503, 200], { name: 'pro' });
    await expect(put.admin.putTier('pro', { requests_per_minute: 10 })).resolves.toEqual({
      name: 'pro',
    });
    expect(put.seen.map((r) => r.method)).toEqual(['PUT', 'PUT']);
    const remove = fakeFetch([503, 503, 204]);
    await expect(remove.admin.deleteSubject('a b')).resolves.toBeDefined();
    expect(remove.seen.map((r) => r.url)).toEqual(
      Array(3).fill('http://budget.test/v1/admin/subjects/a%20b'),
    );
    const missing = fakeFetch([404]);
    await expect(missing.admin.getModel('gpt-x')).rejects.toBeInstanceOf(NotFoundError);
    expect(missing.seen).toHaveLength(1);
  });

  it('send queries without absent fields, and ask CSV for spendCsv', async () => {
    const csv = 'key,cost_usd\r\n';
    const spend = fakeFetch([200]);
    await spend.admin.listSubjects({ tier: 'free', cursor: undefined, limit: 5 });
    await spend.admin.spend({ group_by: 'model', from: '2026-11-01' });
    expect(spend.seen.map((r) => [r.url, r.accept])).toEqual([
      ['http://budget.test/v1/admin/subjects?tier=free&limit=5', null],
      ['http://budget.test/v1/admin/spend?group_by=model&from=2026-11-01', null],
    ]);
    const text = fakeFetch([200], csv);
    // The fake answers JSON text; the CSV call returns the body as it came.
    expect(await text.admin.spendCsv({ subject: 'team' })).toBe(JSON.stringify(csv));
    expect(text.seen[0]).toMatchObject({
      url: 'http://budget.test/v1/admin/spend?subject=team',
      accept: 'text/csv',
    });
  });
});
