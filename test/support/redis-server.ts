import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';

/** A port nobody listens on right now (the kernel picks it). */
export async function sparePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A throwaway `redis-server` child on a spare port, nothing persisted: kill() makes it vanish
 * (SIGKILL, as a crash would), start() brings it back empty on the same port.
 */
export class ThrowawayRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await sparePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) {
      return;
    }
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    child.once('exit', () => {
      if (this.child === child) {
        this.child = undefined;
      }
    });
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      probe.on('error', () => undefined); // refused until it listens: expected, retried
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline || !this.child) {
          await this.kill();
          throw new Error(`redis-server on port ${this.port} did not start`, { cause: error });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** SIGSTOP: connections stay open, nothing is answered (a hung Redis) until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT: Redis runs whatever sat in its sockets meanwhile. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGKILL: connections drop at once, as in a crash. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) {
      return;
    }
    this.child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
        child.kill('SIGCONT'); // A paused process dies on SIGKILL too; this only wakes it.
      });
    }
  }
}
