/**
 * The admin CLI beside a running service on embedded defaults (SPEC §6): on the database it
 * refuses in one line, since the service holds it and a write would be lost; through the admin
 * API (TOKEN_BUDGET_URL, TOKEN_BUDGET_ADMIN_KEY) every command works, and what it wrote is in the
 * database once the service is gone. The compiled CLI and service, each in its own process.
 * Precondition: dist/ exists (`npm test` builds first).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, unique } from '../support/app.harness.js';
import { type CliRun, assertCliBuilt, runCli, tabRows as rows } from '../support/cli-process.js';
import { httpClient } from '../support/http.client.js';
import { type ServiceProcess, startServiceProcess } from '../support/service-process.js';

let dataDir: string;
let service: ServiceProcess;
let adminKey: string;

/** The CLI with only PATH and DATA_DIR inherited, plus `env`. */
function cli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return runCli({ PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ...env }, args);
}

/** Through the running service's admin API. */
const api = (...args: string[]) =>
  cli({ TOKEN_BUDGET_URL: service.url, TOKEN_BUDGET_ADMIN_KEY: adminKey }, ...args);
/** On the database under DATA_DIR. */
const direct = (...args: string[]) => cli({}, ...args);

function ok(run: CliRun): string {
  expect(run.code, `${run.stderr}${run.stdout}`).toBe(0);
  return run.stdout;
}

beforeAll(async () => {
  assertCliBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'token-budget-cli-'));
  service = await startServiceProcess({ DATA_DIR: dataDir }, 90_000);
  adminKey = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
}, 120_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('admin CLI beside a running embedded service', () => {
  it('refuses to write the database the service holds, in one line, and writes nothing', async () => {
    const tier = unique('refused');
    const run = await direct('tiers', 'set', tier, '--rpm', '5');
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^error: the embedded database under .+ is held by a running token-budget service \(pid \d+\); .*TOKEN_BUDGET_URL.*\n$/,
    );
    const admin = httpClient(service.url, adminKey);
    expect((await admin('GET', `/v1/admin/tiers/${tier}`)).status).toBe(404);
    // Reads are refused too: the service's copy is the only current one.
    expect((await direct('tiers', 'list')).code).not.toBe(0);
  }, 60_000);

  it('sets tiers and subjects, makes and rotates keys and reports spend through the API', async () => {
    const admin = httpClient(service.url, adminKey);
    const tier = unique('team_tier');
    const set = rows(ok(await api('tiers', 'set', tier, '--rpm', '100', '--daily-usd', '5.5')));
    expect(set.get(tier)).toEqual(['100', 'unlimited', '-', 'unlimited', '5.5', 'unlimited', '0']);
    expect((await admin('GET', `/v1/admin/tiers/${tier}`)).body).toMatchObject({
      requests_per_minute: 100,
      tokens_per_minute: null,
      daily_cost_limit_usd: '5.5',
    });

    const [team, member] = [unique('team'), unique('member')];
    expect(ok(await api('subjects', 'set', team, '--tier', tier))).toBe(
      `subject "${team}": tier ${tier}, parent -\n`,
    );
    ok(await api('subjects', 'set', member, '--tier', 'free', '--parent', team));
    expect((await admin('GET', `/v1/admin/subjects/${member}`)).body).toMatchObject({
      tier: 'free',
      parent: team,
    });
    const cycle = await api('subjects', 'set', team, '--tier', tier, '--parent', member);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toMatch(/^error: The database refused the change: .*cycle.*\n$/);

    const name = unique('gw');
    const created = ok(await api('keys', 'create', name));
    const key = /^(tb_\S{20,})$/m.exec(created)?.[1];
    expect(key, created).toBeDefined();
    const gateway = httpClient(service.url, key!);
    const check = await gateway('POST', '/v1/check', {
      subject: member,
      model: 'gpt-4o-mini',
      prompt_tokens: 100,
      max_tokens: 40,
    });
    expect(check.status).toBe(200);
    const commit = await gateway('POST', '/v1/commit', {
      reservation_id: check.body.reservation_id,
      usage: { prompt_tokens: 100, completion_tokens: 40 },
    });
    expect(commit.status).toBe(200);

    // gpt-4o-mini: 100 × $0.15/M + 40 × $0.60/M, by the caller that checked, under the team.
    const spend = rows(ok(await api('spend', '--group-by', 'caller', '--subject', team)));
    expect(spend.get(name)).toEqual(['0.000039', '1', '100', '40', '0']);
    expect(spend.get('(total)')?.[0]).toBe('0.000039');
    const csv = ok(await api('spend', '--group-by', 'subject', '--subject', team, '--csv'));
    expect(csv).toBe(
      `key,cost_usd,requests,prompt_tokens,completion_tokens,cached_tokens\r\n${member},0.000039,1,100,40,0\r\n`,
    );
    expect(ok(await api('usage', team))).toMatch(/cost_usd\s+0\.000039\n\s+requests\s+1\n/);

    const rotated = ok(await api('keys', 'rotate', name));
    const newKey = /^(tb_\S{20,})$/m.exec(rotated)?.[1];
    expect(newKey).toBeDefined();
    expect(newKey).not.toBe(key);
    expect(rotated).toContain('the previous key is revoked');
    await eventually(
      async () => expect((await gateway('GET', `/v1/subjects/${member}/usage`)).status).toBe(401),
      2_000,
    );
    const renewed = httpClient(service.url, newKey!);
    expect((await renewed('GET', `/v1/subjects/${member}/usage`)).status).toBe(200);
    expect(rows(ok(await api('keys', 'list'))).get(name)?.[2]).toBe('caller');

    const bad = await api('tiers', 'set', tier, '--rpm', 'many');
    expect(bad).toMatchObject({
      code: 1,
      stderr: 'error: --rpm must be a whole number, got many\n',
    });
  }, 180_000);

  it('needs an admin key beside TOKEN_BUDGET_URL, and refuses a caller key', async () => {
    const missing = await cli({ TOKEN_BUDGET_URL: service.url }, 'tiers', 'list');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/TOKEN_BUDGET_ADMIN_KEY/);
    const name = unique('caller');
    const key = /^(tb_\S{20,})$/m.exec(ok(await api('keys', 'create', name)))![1]!;
    const forbidden = await cli(
      { TOKEN_BUDGET_URL: service.url, TOKEN_BUDGET_ADMIN_KEY: key },
      'tiers',
      'list',
    );
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^error: .*admin/i);
  }, 120_000);

  it('finds what it wrote through the API in the database once the service stopped', async () => {
    const tier = unique('kept');
    ok(await api('tiers', 'set', tier, '--concurrent', '3'));
    await service.stop();
    const listed = rows(ok(await direct('tiers', 'list')));
    expect(listed.get(tier)?.[3]).toBe('3');
    // On the database directly, with the service gone, writes work too.
    ok(await direct('tiers', 'set', tier, '--concurrent', '4'));
    expect(rows(ok(await direct('tiers', 'list'))).get(tier)?.[3]).toBe('4');
  }, 120_000);
});
