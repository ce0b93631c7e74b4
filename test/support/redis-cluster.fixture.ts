import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './polling.js';

const run = promisify(execFile);

/**
 * A throwaway 3-master Redis Cluster on spare ports, in a temporary directory, for one test
 * file. stop() shuts every node down (and kills by pid any that refuses) and removes the files.
 */
export class RedisClusterFixture {
  readonly ports: number[] = [];
  private dir = '';

  get url(): string {
    return `redis-cluster://${this.ports.map((port) => `127.0.0.1:${port}`).join(',')}`;
  }

  async start(masters = 3): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'tb-cluster-'));
    while (this.ports.length < masters) {
      const port = await freeClusterPort(this.ports);
      // Recorded before starting, so stop() cleans up even a half-started cluster.
      this.ports.push(port);
      await run('redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${port}.conf`),
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--pidfile',
        join(this.dir, `redis-${port}.pid`),
        '--logfile',
        join(this.dir, `redis-${port}.log`),
        '--dir',
        this.dir,
      ]);
      // Started: it answers.
      await eventually(async () => (await cli(port, 'ping')) === 'PONG', 20_000, 100);
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of this.ports) {
      // Joined: it sees the whole cluster.
      await eventually(
        async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'),
        20_000,
        100,
      );
    }
  }

  async stop(): Promise<void> {
    for (const port of this.ports) {
      await cli(port, 'shutdown', 'nosave').catch(() => undefined);
      await eventually(async () => !isRunning(await this.pid(port)), 5_000, 100).catch(async () => {
        // It did not stop on request: end that one process, by its own pid.
        const pid = await this.pid(port);
        if (pid) {
          process.kill(pid, 'SIGKILL');
        }
      });
    }
    if (this.dir) {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  private async pid(port: number): Promise<number | undefined> {
    try {
      return (
        Number((await readFile(join(this.dir, `redis-${port}.pid`), 'utf8')).trim()) || undefined
      );
    } catch {
      return undefined;
    }
  }
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 });
  return stdout.trim();
}

function isRunning(pid: number | undefined): boolean {
  if (!pid) {
    return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port that is free along with its cluster bus port (port + 10000). */
async function freeClusterPort(taken: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (port + 10_000 <= 65_535 && !taken.includes(port) && (await portIsFree(port + 10_000))) {
      return port;
    }
  }
  throw new Error('No free port pair for a Redis Cluster node');
}
