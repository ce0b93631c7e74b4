import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled service; `npm run build` (or `npm test`) makes it. */
export const SERVICE_ENTRY = 'dist/apps/api/src/main.js';

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr), for failure messages. */
  output: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. Safe to call twice. */
  stop: (graceMs?: number) => Promise<void>;
}

/** The repository root (the folder holding package.json), from source or from dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error('package.json not found above test/support');
    }
    dir = parent;
  }
  return dir;
}

/**
 * Starts the compiled service as its own process and resolves once it prints where it listens.
 * `env` is the whole service configuration (PORT=0 and HOST=127.0.0.1 by default).
 */
export function startServiceProcess(
  env: Record<string, string>,
  /** A first embedded start migrates PGlite: allow it more on a loaded machine. */
  startMs = 30_000,
): Promise<ServiceProcess> {
  const script = join(projectRoot(), SERVICE_ENTRY);
  if (!existsSync(script)) {
    throw new Error(`${SERVICE_ENTRY} is missing: run \`npm run build\` first (npm test does).`);
  }
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${SERVICE_ENTRY} ${why}:\n${output}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${startMs / 1000} s`), startMs);
    const onEarlyExit = (code: number | null, signal: string | null): void =>
      fail(`exited (${code ?? signal}) before listening`);
    child.once('exit', onEarlyExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        resolve({
          url: match[1]!.replace('localhost', '127.0.0.1'),
          child,
          output: () => output,
          stop,
        });
      }
    });
  });
}
