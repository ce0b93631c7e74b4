import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type ApiClient, ApiClientRepository, hashApiKey, ledgerCall } from '#ledger';

/** Every unrevoked key is re-read this often: a new or revoked key takes effect within 2 s. */
const REFRESH_MS = 1_000;
/** A key not in the last good read is looked up on the request path only while reads succeed. */
const FRESH_MS = 3 * REFRESH_MS;
/** That lookup waits at most this long (no request waits on Postgres: SPEC §7). */
const LOOKUP_MS = 1_000;
const MAX_KEYS = 10_000;

export type Verdict = { client: ApiClient } | { client: null; reason: 'unknown' | 'unverifiable' };

/**
 * API-key verdicts for the guard, kept off the request path: every unrevoked client is read in
 * the background each second, and a request is judged from that map. While Postgres is down (or
 * silent) the last good read keeps serving, so checks go on (SPEC §7); a key it does not know
 * is then 503 (cannot be verified), never a wait.
 */
@Injectable()
export class ApiKeyVerdicts implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyVerdicts.name);
  private byHash = new Map<string, ApiClient>();
  /** The key as sent → its hash: no SHA-256 per request. */
  private readonly hashes = new Map<string, string>();
  private loadedAt = 0;
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly clients: ApiClientRepository) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Reads every unrevoked client; on failure the last good read stays. Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const active = await ledgerCall('api keys', this.clients.listActive(), LOOKUP_MS);
        this.byHash = new Map(active.map((client) => [client.keySha256, client]));
        this.loadedAt = Date.now();
        if (this.failing) {
          this.logger.log('API keys readable again');
        }
        this.failing = false;
      } catch (error) {
        if (!this.failing) {
          this.logger.warn(
            `API keys cannot be re-read, serving the last good read: ${String(error)}`,
          );
        }
        this.failing = true;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  async verdict(key: string): Promise<Verdict> {
    const hash = this.hashOf(key);
    const known = this.byHash.get(hash);
    if (known) {
      return { client: known };
    }
    if (this.failing || Date.now() - this.loadedAt > FRESH_MS) {
      return { client: null, reason: 'unverifiable' };
    }
    // A key created since the last read (within the second): one bounded lookup.
    try {
      const client = await ledgerCall('api key', this.clients.findActiveByKeyHash(hash), LOOKUP_MS);
      if (client) {
        this.byHash.set(hash, client);
        return { client };
      }
      return { client: null, reason: 'unknown' };
    } catch {
      return { client: null, reason: 'unverifiable' };
    }
  }

  private hashOf(key: string): string {
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      hash = hashApiKey(key);
      if (this.hashes.size >= MAX_KEYS) {
        this.hashes.clear(); // Keys come from callers: keep the memo bounded.
      }
      this.hashes.set(key, hash);
    }
    return hash;
  }
}
