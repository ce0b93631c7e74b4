import { getPGliteInstance } from 'typeorm-pglite';
import { CatalogueListener } from './catalogue.listener.js';
import { CATALOGUE_TABLES, type CatalogueTable } from './catalogue.types.js';

/** The channel the migrations' triggers notify, with the table name, on every catalogue edit. */
export const CATALOGUE_CHANNEL = 'token_budget_catalogue';

export interface CatalogueFeedOptions {
  /**
   * LISTEN on a dedicated connection to this URL; `embedded`: PGlite's own listen (same process);
   * undefined: nothing (the periodic reload only).
   */
  listen?: { url: string; applicationName?: string } | 'embedded';
  /** Notifications within this window make one change (default 20 ms). */
  debounceMs?: number;
  reconnectBackoffMs?: { min: number; max: number };
  logger: { log(message: string): void; warn(message: string): void };
  /** The tables edited; all of them after a reconnection (notifications may have been lost). */
  onChange: (tables: ReadonlySet<CatalogueTable>) => void;
}

/** Turns catalogue notifications into debounced "these tables changed" calls. */
export class CatalogueFeed {
  private listener: CatalogueListener | undefined;
  private unlistenEmbedded: (() => Promise<void>) | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly changed = new Set<CatalogueTable>();
  private stopped = false;

  constructor(private readonly options: CatalogueFeedOptions) {}

  /** Resolves after the first attempt to listen; a failed one keeps retrying in the background. */
  async start(): Promise<void> {
    const listen = this.options.listen;
    if (listen === 'embedded') {
      const db = await getPGliteInstance();
      this.unlistenEmbedded = await db.listen(CATALOGUE_CHANNEL, (payload) =>
        this.notified(payload),
      );
    } else if (listen !== undefined) {
      this.listener = new CatalogueListener({
        connectionString: listen.url,
        channel: CATALOGUE_CHANNEL,
        applicationName: listen.applicationName,
        onNotification: (payload) => this.notified(payload),
        onReconnected: () => this.schedule(CATALOGUE_TABLES),
        logger: this.options.logger,
        minBackoffMs: this.options.reconnectBackoffMs?.min,
        maxBackoffMs: this.options.reconnectBackoffMs?.max,
      });
      await this.listener.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounceTimer);
    await this.listener?.stop();
    await this.unlistenEmbedded?.();
    this.unlistenEmbedded = undefined;
  }

  /** Whether edits are heard now (false while the LISTEN connection reconnects). */
  get listening(): boolean {
    return this.listener?.listening ?? this.unlistenEmbedded !== undefined;
  }

  get backendPid(): number | undefined {
    return this.listener?.backendPid;
  }

  private notified(payload: string): void {
    const table = CATALOGUE_TABLES.find((name) => name === payload);
    // An unexpected payload (a hand-made NOTIFY) still means "something changed".
    this.schedule(table === undefined ? CATALOGUE_TABLES : [table]);
  }

  private schedule(tables: Iterable<CatalogueTable>): void {
    for (const table of tables) {
      this.changed.add(table);
    }
    if (this.debounceTimer !== undefined) {
      return;
    }
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      if (!this.stopped) {
        const tables = new Set(this.changed);
        this.changed.clear();
        this.options.onChange(tables);
      }
    }, this.options.debounceMs ?? 20);
  }
}
