import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EMBEDDED_LOCK_FILE,
  EmbeddedDatabaseHeldError,
  embeddedDatabaseHolder,
  holdEmbeddedDatabase,
} from './embedded.lock.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'token-budget-lock-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A live process other than this one, until killed. */
function otherProcess() {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
}

describe('the embedded database lock', () => {
  it('refuses while another live process holds it, naming it', async () => {
    const other = otherProcess();
    try {
      writeFileSync(join(dir, EMBEDDED_LOCK_FILE), `${other.pid} token-budget service\n`);
      expect(embeddedDatabaseHolder(dir)).toEqual({
        pid: other.pid,
        holder: 'token-budget service',
      });
      expect(() => holdEmbeddedDatabase(dir, 'admin CLI')).toThrow(EmbeddedDatabaseHeldError);
      expect(() => holdEmbeddedDatabase(dir, 'admin CLI')).toThrow(
        `held by a running token-budget service (pid ${other.pid})`,
      );
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    // Its process is gone: the lock is stale and taken over.
    const release = holdEmbeddedDatabase(dir, 'admin CLI');
    expect(readFileSync(join(dir, EMBEDDED_LOCK_FILE), 'utf8')).toBe(`${process.pid} admin CLI\n`);
    release();
    expect(existsSync(join(dir, EMBEDDED_LOCK_FILE))).toBe(false);
  });

  it('lets the process that holds it open it again', () => {
    const release = holdEmbeddedDatabase(dir, 'token-budget service');
    expect(embeddedDatabaseHolder(dir)).toBeNull();
    expect(() => holdEmbeddedDatabase(dir, 'token-budget service')).not.toThrow();
    release();
  });
});
