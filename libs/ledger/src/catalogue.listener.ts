import pg from 'pg';

export interface CatalogueListenerOptions {
  connectionString: string;
  channel: string;
  /** Shown in pg_stat_activity, so an operator can tell this connection apart. */
  applicationName?: string;
  onNotification: (payload: string) => void;
  /** LISTEN is back after a lost connection: notifications sent meanwhile are gone. */
  onReconnected: () => void;
  logger: { log(message: string): void; warn(message: string): void };
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection that stops answering is only noticed by using it (TCP keepalive takes minutes). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

/**
 * LISTEN on a dedicated connection (a pooled one would be handed to other work). When the
 * connection dies — pg_terminate_backend, a Postgres restart, a dead network — it reconnects with
 * jittered exponential backoff and reports the reconnection so the caller can reload everything.
 */
export class CatalogueListener {
  private client: pg.Client | undefined;
  private pid: number | undefined;
  private stopped = false;
  private everListened = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CatalogueListenerOptions) {}

  /** Resolves after the first attempt; if it failed, retries go on in the background. */
  async start(): Promise<void> {
    this.pingTimer = setInterval(() => void this.ping(), this.options.pingIntervalMs ?? 10_000);
    this.pingTimer.unref();
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** The server process of the LISTEN connection (for tests and diagnostics). */
  get backendPid(): number | undefined {
    return this.client === undefined ? undefined : this.pid;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: this.options.applicationName ?? 'token-budget catalogue listener',
      connectionTimeoutMillis: 3000,
      keepAlive: true,
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) {
        this.options.onNotification(message.payload ?? '');
      }
    });
    try {
      await client.connect();
      const [row] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      this.pid = row?.pid;
      // Last, so that pg_stat_activity.query of this backend reads LISTEN.
      await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    } catch (error) {
      client.end().catch(() => undefined);
      this.scheduleReconnect(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    if (this.everListened) {
      this.options.logger.log(`Listening on ${this.options.channel} again`);
      this.options.onReconnected();
    }
    this.everListened = true;
  }

  private lost(client: pg.Client, error?: unknown): void {
    if (client !== this.client) {
      return; // A client that never finished connecting, or one already replaced.
    }
    this.client = undefined;
    client.end().catch(() => undefined);
    this.scheduleReconnect(error ?? new Error('connection ended'));
  }

  private scheduleReconnect(error: unknown): void {
    if (this.stopped || this.reconnectTimer !== undefined) {
      return;
    }
    const min = this.options.minBackoffMs ?? 100;
    const max = this.options.maxBackoffMs ?? 5_000;
    // Jitter spreads the reconnections of many instances after a Postgres restart.
    const delay = Math.min(max, min * 2 ** this.failures) * (0.5 + Math.random() / 2);
    this.failures++;
    this.options.logger.warn(
      `LISTEN ${this.options.channel} connection lost (${describe(error)}); retrying in ${Math.round(delay)} ms`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async ping(): Promise<void> {
    const client = this.client;
    if (client === undefined) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      // LISTEN again is a no-op on a live connection, and keeps pg_stat_activity reading LISTEN.
      await Promise.race([
        client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('ping timed out')),
            this.options.pingTimeoutMs ?? 5_000,
          );
        }),
      ]);
    } catch (error) {
      this.lost(client, error);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
