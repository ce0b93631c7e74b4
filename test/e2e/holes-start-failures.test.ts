import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '../support/polling.js';
import { SERVICE_ENTRY, projectRoot } from '../support/service-process.js';
import { assertTestDatabaseName, databaseUrlWithName } from '../support/test-database.js';
import { testEnv } from '../support/test-env.js';

/** SPEC §6: a start that fails ends within 10 s with one line naming the variable or the command. */
interface Ended {
  code: number | null;
  seconds: number;
  lines: string[];
}

function start(env: Record<string, string>): Promise<Ended> {
  const script = join(projectRoot(), SERVICE_ENTRY);
  if (!existsSync(script)) {
    throw new Error(`${SERVICE_ENTRY} is missing: run \`npm run build\` first (npm test does).`);
  }
  const began = performance.now();
  const child = spawn(process.execPath, [script], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: testEnv().redisUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({
        code,
        seconds: (performance.now() - began) / 1000,
        lines: output.split('\n').filter((line) => line.trim() !== ''),
      });
    });
  });
}

const unmigratedName = `${unique('unmigrated')}_test`.toLowerCase();
const unmigratedUrl = databaseUrlWithName(testEnv().databaseUrl, unmigratedName);
let admin: pg.Client;

beforeAll(async () => {
  assertTestDatabaseName(unmigratedUrl);
  admin = new pg.Client({ connectionString: testEnv().databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${unmigratedName}"`);
});

afterAll(async () => {
  await admin?.query(`DROP DATABASE IF EXISTS "${unmigratedName}" WITH (FORCE)`);
  await admin?.end();
});

describe('a start that cannot succeed', () => {
  it('a DATABASE_URL on a port nothing listens on: one line naming DATABASE_URL, within 10 s', async () => {
    const url = new URL(testEnv().databaseUrl);
    url.port = '1';
    const ended = await start({ DATABASE_URL: url.toString() });
    expect(ended.code).toBe(1);
    expect(ended.seconds).toBeLessThan(10);
    expect(ended.lines).toHaveLength(1);
    expect(ended.lines[0]).toContain('DATABASE_URL');
    expect(ended.lines[0]).not.toMatch(/^\s+at /);
  });

  it('an unmigrated database: one line naming npm run migration:run, within 10 s', async () => {
    const ended = await start({ DATABASE_URL: unmigratedUrl });
    expect(ended.code).toBe(1);
    expect(ended.seconds).toBeLessThan(10);
    expect(ended.lines).toHaveLength(1);
    expect(ended.lines[0]).toContain('npm run migration:run');
  });

  it('a bad value: one line naming the variable', async () => {
    const ended = await start({ DATABASE_URL: testEnv().databaseUrl, REDIS_FAILURE_MODE: 'maybe' });
    expect(ended.code).toBe(1);
    expect(ended.seconds).toBeLessThan(10);
    expect(ended.lines).toHaveLength(1);
    expect(ended.lines[0]).toContain('REDIS_FAILURE_MODE');
  });
});
