/**
 * Embedded defaults, as a first-time user meets them: the compiled service with no DATABASE_URL
 * and no REDIS_URL runs on the in-process store and an embedded PGlite database under DATA_DIR,
 * and prints where it listens, its modes and an API key to use. A restart (SIGTERM, start again)
 * keeps the key (kept under DATA_DIR, printed masked from then on) and the reservations decided
 * in process: one held before the restart is committed after it, into the ledger exactly once
 * (SPEC §6, §7), and a check retried with its idempotency key answers the reservation the key
 * made before the restart, reserving nothing again (SPEC §4).
 * Precondition: dist/ exists (`npm test` builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../support/app.harness.js';

const MAIN = 'dist/apps/api/src/main.js';

interface Service {
  child: ChildProcess;
  output: () => string;
  url: string;
  /** The API key line as printed: the key in clear on a first start, else a masked prefix. */
  key: string;
}

let dataDir: string;
const running: ChildProcess[] = [];

/** Starts the service on embedded defaults: only PATH is inherited, so no URL leaks in. */
async function startEmbedded(): Promise<Service> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 50_000;
  while (!/API key:\s+\S+/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the embedded service did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    output: () => output,
    url: /listening on (http:\/\/\S+)/.exec(output)![1]!.replace('localhost', '127.0.0.1'),
    key: /API key:\s+(\S+)/.exec(output)![1]!,
  };
}

async function stop(service: Service): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => service.child.once('exit', resolve));
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

async function call(
  service: Service,
  method: string,
  path: string,
  body?: unknown,
  key: string | null = service.key,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(() => {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does).`);
  }
  dataDir = mkdtempSync(join(tmpdir(), 'token-budget-embedded-'));
});

afterAll(() => {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded defaults (no DATABASE_URL, no REDIS_URL)', () => {
  const subject = unique('embedded');
  let firstKey = '';
  let heldId = '';
  // Checked and committed before the restart, retried after it.
  const keyed = {
    subject,
    model: 'gpt-4o-mini',
    prompt_tokens: 100,
    max_tokens: 50,
    idempotency_key: 'embedded-retry',
  };
  let keyedAnswer: Record<string, unknown> = {};

  it('prints its URL, modes and a key; checks and commits land in the embedded ledger', async () => {
    const service = await startEmbedded();
    const printed = service.output();
    expect(printed).toMatch(/token-budget listening on http:\/\/localhost:\d+/);
    expect(printed).toMatch(/store:\s+in-process \(single instance\)/);
    expect(printed).toContain(`database: embedded PGlite under ${dataDir}`);
    expect(service.key).toMatch(/^tb_[A-Za-z0-9_-]{20,}$/);
    firstKey = service.key;
    expect(existsSync(join(dataDir, 'pglite'))).toBe(true);

    expect((await call(service, 'GET', '/healthz', undefined, null)).status).toBe(200);
    const ready = await call(service, 'GET', '/readyz', undefined, null);
    expect(ready).toMatchObject({
      status: 200,
      body: { status: 'ok', modes: { store: 'memory', database: 'embedded' } },
    });
    expect(
      (await call(service, 'GET', `/v1/subjects/${subject}/usage`, undefined, null)).status,
    ).toBe(401);

    const allowed = await call(service, 'POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 50,
    });
    expect(allowed).toMatchObject({ status: 200, body: { allowed: true, tier: 'free' } });
    const committed = await call(service, 'POST', '/v1/commit', {
      reservation_id: allowed.body.reservation_id,
      usage: { prompt_tokens: 100, completion_tokens: 40 },
    });
    // gpt-4o-mini: 100 × $0.15/M + 40 × $0.60/M
    expect(committed).toMatchObject({
      status: 200,
      body: { status: 'committed', cost_usd: '0.000039' },
    });

    const usage = await call(service, 'GET', `/v1/subjects/${subject}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.today).toMatchObject({
      date: new Date().toISOString().slice(0, 10),
      cost_usd: '0.000039',
      requests: 1,
      prompt_tokens: 100,
      completion_tokens: 40,
    });
    expect(usage.body.in_flight).toEqual([]);

    // Held across the restart below.
    const held = await call(service, 'POST', '/v1/check', {
      subject,
      model: 'gpt-4o-mini',
      prompt_tokens: 100,
      max_tokens: 50,
      ttl_seconds: 600,
    });
    expect(held).toMatchObject({ status: 200, body: { allowed: true } });
    heldId = String(held.body.reservation_id);

    const first = await call(service, 'POST', '/v1/check', keyed);
    expect(first).toMatchObject({ status: 200, body: { allowed: true } });
    keyedAnswer = first.body;
    const keyedCommit = await call(service, 'POST', '/v1/commit', {
      reservation_id: first.body.reservation_id,
      usage: { prompt_tokens: 100, completion_tokens: 20 },
    });
    // gpt-4o-mini: 100 × $0.15/M + 20 × $0.60/M
    expect(keyedCommit).toMatchObject({ status: 200, body: { cost_usd: '0.000027' } });

    expect(await stop(service)).toBe(0);
  }, 90_000);

  it('keeps the ledger, the API key and a held reservation across a restart', async () => {
    const keyFile = join(dataDir, 'api-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(firstKey);
    const service = await startEmbedded();
    try {
      // The same key, now printed masked only, naming where it is kept.
      expect(service.key).toBe(`${firstKey.slice(0, 6)}********`);
      expect(service.output()).not.toContain(firstKey);
      expect(service.output()).toContain(`(kept in ${keyFile})`);
      const withKey = { ...service, key: firstKey };
      const before = await call(withKey, 'GET', `/v1/subjects/${subject}/usage`);
      expect(before.status).toBe(200);
      expect(before.body.today).toMatchObject({ cost_usd: '0.000066', requests: 2 });
      expect(before.body.in_flight).toEqual([
        expect.objectContaining({ reservation_id: heldId, model: 'gpt-4o-mini' }),
      ]);

      // The check retried with its key: the same answer as before the restart, nothing reserved.
      const retried = await call(withKey, 'POST', '/v1/check', keyed);
      expect(retried.status).toBe(200);
      expect(retried.body.reservation_id).toBe(keyedAnswer.reservation_id);
      expect(retried.body.estimate).toEqual(keyedAnswer.estimate);
      expect(retried.body.expires_at).toBe(keyedAnswer.expires_at);
      const reused = await call(withKey, 'POST', '/v1/check', { ...keyed, max_tokens: 60 });
      expect(reused).toMatchObject({ status: 409, body: { error: 'idempotency_key_reused' } });
      const held = await call(withKey, 'GET', `/v1/subjects/${subject}/usage`);
      expect(held.body.in_flight).toEqual([expect.objectContaining({ reservation_id: heldId })]);

      // The reservation held before the restart is committed with its real usage.
      const usage = { prompt_tokens: 100, completion_tokens: 10 };
      const committed = await call(withKey, 'POST', '/v1/commit', {
        reservation_id: heldId,
        usage,
      });
      // gpt-4o-mini: 100 × $0.15/M + 10 × $0.60/M
      expect(committed).toMatchObject({
        status: 200,
        body: { status: 'committed', cost_usd: '0.000021' },
      });
      const again = await call(withKey, 'POST', '/v1/commit', { reservation_id: heldId, usage });
      expect(again).toMatchObject({ status: 200, body: { status: 'committed' } });
      const after = await call(withKey, 'GET', `/v1/subjects/${subject}/usage`);
      expect(after.body.today).toMatchObject({ cost_usd: '0.000087', requests: 3 });
      expect(after.body.in_flight).toEqual([]);
    } finally {
      expect(await stop(service)).toBe(0);
    }
    // In the ledger exactly once, as committed (not also as expired at the first shutdown).
    const db = new PGlite(join(dataDir, 'pglite'));
    try {
      const rows = await db.query<{ status: string; completion_tokens: number }>(
        'SELECT status, completion_tokens FROM usage_ledger WHERE reservation_id = $1',
        [heldId],
      );
      expect(rows.rows).toEqual([{ status: 'committed', completion_tokens: 10 }]);
      // The three reservations made before the restart, and no other.
      const all = await db.query<{ reservation_id: string }>(
        'SELECT reservation_id FROM usage_ledger WHERE subject = $1 ORDER BY reservation_id',
        [subject],
      );
      expect(all.rows.map((row) => row.reservation_id)).toHaveLength(3);
      expect(all.rows.map((row) => row.reservation_id)).toContain(keyedAnswer.reservation_id);
    } finally {
      await db.close();
    }
  }, 120_000);
});
