import net from 'node:net';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import type { Settlement } from '#budget';
import { dataSourceOptions } from '#ledger';
import { unique } from '../support/polling.js';

export async function openDataSource(databaseUrl: string): Promise<DataSource> {
  const dataSource = new DataSource(
    dataSourceOptions({ DATABASE_URL: databaseUrl, DATA_DIR: '.' }),
  );
  await dataSource.initialize();
  return dataSource;
}

export function settlement(overrides: Partial<Settlement> = {}): Settlement {
  const settledAtMs = overrides.settledAtMs ?? Date.now();
  return {
    reservationId: unique('res'),
    subject: unique('subj'),
    tier: 'free',
    model: 'gpt-4o',
    promptTokens: 100,
    completionTokens: 50,
    costMicros: 750,
    status: 'committed',
    reservedAtMs: settledAtMs - 1_000,
    settledAtMs,
    ...overrides,
  };
}

/**
 * A TCP proxy in front of Postgres, to make it unreachable (stop: connections cut, port closed)
 * or silent (hang: bytes swallowed) for one client without touching the shared server.
 */
export class PostgresProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'forward' | 'hang' = 'forward';
  private port = 0;

  constructor(private readonly target: URL) {}

  /** The target database's URL, through this proxy. */
  get url(): string {
    const url = new URL(this.target);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async start(): Promise<void> {
    this.mode = 'forward';
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Cuts every connection and closes the port: connections are refused until start(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) {
      socket.destroy();
    }
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** Keeps connections open but lets nothing through: Postgres seems to hang. */
  hang(): void {
    this.mode = 'hang';
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk) => {
        if (this.mode === 'forward') {
          to.write(chunk);
        }
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}
