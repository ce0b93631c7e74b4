/**
 * The admin CLI as an operator runs it: the compiled `dist/apps/cli/src/main.js` in its own
 * process, on this run's database, against a running service.
 *
 * Precondition: dist/ must exist and be current — `npm test` runs `npm run build` first; when
 * running this file alone, build before (`npm run build && npx vitest run test/e2e/cli.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp, unique } from '../support/app.harness.js';
import { assertCliBuilt, runCli, tabRows as rows } from '../support/cli-process.js';
import { testEnv } from '../support/test-env.js';

const cli = (...args: string[]) =>
  runCli({ ...process.env, DATABASE_URL: testEnv().databaseUrl, LOG_LEVEL: 'warn' }, args);

let t: TestApp;

beforeAll(async () => {
  assertCliBuilt();
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
    const nobodyName = unique('cli-nobody');
    const nobody = await cli('keys', 'revoke', nobodyName);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe(`error: No key named "${nobodyName}".\n`);
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
      'monthly_usd',
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

  it('sets a tier and a subject, rotates a key with grace and reports spend on the database', async () => {
    const tier = unique('cli-tier');
    const set = rows((await cli('tiers', 'set', tier, '--tpm', '5000', '--burst', '6000')).stdout);
    expect(set.get(tier)).toEqual([
      'unlimited',
      '5000',
      '6000',
      'unlimited',
      'unlimited',
      'unlimited',
      '0',
    ]);
    const subject = unique('cli-member');
    const put = await cli('subjects', 'set', subject, '--tier', tier);
    expect(put.code, put.stderr).toBe(0);
    // A CLI write on the database reaches the running instance within seconds (SPEC §5).
    await eventually(async () =>
      expect((await t.request('GET', `/v1/subjects/${subject}/usage`)).body.tier).toBe(tier),
    );
    const audit = await t.sql(
      `SELECT actor, action FROM admin_audit WHERE target = ANY($1) ORDER BY id`,
      [[tier, subject]],
    );
    expect(audit.rows).toEqual([
      { actor: 'admin-cli', action: 'tier.put' },
      { actor: 'admin-cli', action: 'subject.put' },
    ]);
    const unknownTier = await cli('subjects', 'set', subject, '--tier', unique('none'));
    expect(unknownTier.code).toBe(1);
    expect(unknownTier.stderr).toMatch(/^error: No tier named/);

    const name = unique('cli-rotate');
    const first = /^(tb_\S{20,})$/m.exec((await cli('keys', 'create', name)).stdout)![1]!;
    const rotated = await cli('keys', 'rotate', name, '--grace-seconds', '60');
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/the previous key works until \d{4}-\d{2}-\d{2}T/);
    const second = /^(tb_\S{20,})$/m.exec(rotated.stdout)![1]!;
    for (const key of [first, second]) {
      const reply = await t.request('GET', `/v1/subjects/${subject}/usage`, undefined, {
        authorization: `Bearer ${key}`,
      });
      expect(reply.status).toBe(200);
    }

    const spend = await cli(
      'spend',
      '--from',
      '2001-01-01',
      '--to',
      '2001-01-31',
      '--group-by',
      'model',
    );
    expect(spend.code, spend.stderr).toBe(0);
    expect(spend.stdout).toBe(
      'spend 2001-01-01 .. 2001-01-31 by model\n' +
        'model\tcost_usd\trequests\tprompt_tokens\tcompletion_tokens\tcached_tokens\n' +
        '(total)\t0.000000\t0\t0\t0\t0\n',
    );
    const badDay = await cli('spend', '--from', '2001-02-30');
    expect(badDay.code).toBe(1);
    expect(badDay.stderr).toMatch(/^error: from is not a real date/);
  });

  it('answers an unknown command with the usage text and exit code 2', async () => {
    for (const args of [['frobnicate'], ['keys', 'frob', 'x'], []]) {
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
