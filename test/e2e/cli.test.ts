/**
 * The admin CLI as an operator runs it: the compiled `dist/apps/cli/src/main.js` in its own
 * process, on this run's database, against a running service.
 *
 * Precondition: dist/ must exist and be current — `npm test` runs `npm run build` first; when
 * running this file alone, build before (`npm run build && npx vitest run test/e2e/cli.test.ts`).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { testEnv } from '../support/test-env.js';

const CLI = 'dist/apps/cli/src/main.js';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, DATABASE_URL: testEnv().databaseUrl, LOG_LEVEL: 'warn' },
        timeout: 20_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Tab-separated rows of a listing, by their first cell. */
function rows(stdout: string): Map<string, string[]> {
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'))
      .map((cells) => [cells[0]!, cells.slice(1)]),
  );
}

let t: TestApp;

beforeAll(async () => {
  if (!existsSync(CLI)) {
    throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does).`);
  }
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe('admin CLI', () => {
  it('creates a key that works, revokes it within 2 s, and lists it as revoked', async () => {
    const name = unique('cli-gateway');
    const created = await cli('keys', 'create', name);
    expect(created.code, created.stderr).toBe(0);
    const key = /^(tb_[A-Za-z0-9_-]{20,})$/m.exec(created.stdout)?.[1];
    expect(key, created.stdout).toBeDefined();
    const stored = await t.sql('SELECT key_sha256 FROM api_clients WHERE name = $1', [name]);
    expect(stored.rows[0].key_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0].key_sha256).not.toContain(key);

    const withKey = { authorization: `Bearer ${key}` };
    const subject = unique('cli-subject');
    const allowed = await t.request(
      'POST',
      '/v1/check',
      { subject, model: 'gpt-4o-mini', prompt_tokens: 100, max_tokens: 50 },
      withKey,
    );
    expect(allowed.status).toBe(200);
    const committed = await t.request(
      'POST',
      '/v1/commit',
      {
        reservation_id: allowed.body.reservation_id,
        usage: { prompt_tokens: 100, completion_tokens: 40 },
      },
      withKey,
    );
    expect(committed.status).toBe(200);

    const usage = await cli('usage', subject);
    expect(usage.code, usage.stderr).toBe(0);
    // gpt-4o-mini: 100 × $0.15/M + 40 × $0.60/M
    expect(usage.stdout).toMatch(/cost_usd\s+0\.000039/);
    expect(usage.stdout).toMatch(/requests\s+1\b/);

    const listed = await cli('keys', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(rows(listed.stdout).get(name)?.[1]).toBe('-');

    const revoked = await cli('keys', 'revoke', name);
    expect(revoked.code, revoked.stderr).toBe(0);
    const revokedAt = Date.now();
    let status = 200;
    while (status !== 401 && Date.now() - revokedAt < 5_000) {
      status = (await t.request('GET', `/v1/subjects/${subject}/usage`, undefined, withKey)).status;
      if (status !== 401) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(2_000);
    // The test app's own key is untouched.
    expect((await t.request('GET', `/v1/subjects/${subject}/usage`)).status).toBe(200);

    const after = rows((await cli('keys', 'list')).stdout).get(name);
    expect(after?.[1]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('refuses a second caller with the same name and a revoke of nobody, exit 1', async () => {
    const name = unique('cli-twice');
    expect((await cli('keys', 'create', name)).code).toBe(0);
    const again = await cli('keys', 'create', name);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `error: An API client named "${name}" or with this key already exists.\n`,
    );
    const nobody = await cli('keys', 'revoke', unique('cli-nobody'));
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no caller named/);
  });

  it('lists the seeded tiers with their limits', async () => {
    const listed = await cli('tiers', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const tiers = rows(listed.stdout);
    expect(tiers.get('tier')).toEqual([
      'requests/min',
      'tokens/min',
      'burst',
      'concurrent',
      'daily_usd',
      'subjects',
    ]);
    // requests/min, tokens/min, burst, concurrent, daily USD (SPEC §5).
    expect(tiers.get('free')?.slice(0, 5)).toEqual(['10', '10000', '-', '2', '1']);
    expect(tiers.get('standard')?.slice(0, 5)).toEqual(['60', '100000', '-', '10', '50']);
    expect(tiers.get('enterprise')?.slice(0, 5)).toEqual([
      '300',
      '1000000',
      '-',
      '50',
      'unlimited',
    ]);
  });

  it('answers an unknown command with the usage text and exit code 2', async () => {
    for (const args of [['frobnicate'], ['keys', 'rotate', 'x'], []]) {
      const run = await cli(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toContain('keys create <name>');
      expect(run.stdout).toContain('tiers list');
      expect(run.stdout).toContain('usage <subject>');
    }
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('keys revoke <name>');
  });
});
