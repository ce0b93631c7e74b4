import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { BucketLimit, Limits } from '#budget';
import { CatalogueFeed, type CatalogueFeedOptions } from './catalogue.feed.js';
import { CatalogueRepository } from './catalogue.repository.js';
import {
  CATALOGUE_TABLES,
  type CatalogueSnapshot,
  type CatalogueTable,
  type ModelEntry,
  type ModelLimitEntry,
  type SkippedRow,
  type TierEntry,
  modelLimitKey,
} from './catalogue.types.js';
import {
  ModelUnavailableError,
  TierUnavailableError,
  UnknownModelError,
  UnknownTierError,
} from '#kernel';
import { resolveModelRow } from './model.resolution.js';
import { LimitHistory } from './limit.history.js';

export interface CatalogueOptions {
  /** DEFAULT_TIER: the tier of a subject without a row. */
  defaultTier: string;
  /** CATALOGUE_RELOAD_SECONDS: the full reload that backs up notifications. */
  reloadSeconds: number;
  /**
   * How edits are heard between periodic reloads: LISTEN on a dedicated connection to this URL,
   * PGlite's own listen in embedded mode, or not at all.
   */
  listen?: CatalogueFeedOptions['listen'];
  /** Notifications within this window share one reload (default 20 ms). */
  debounceMs?: number;
  /** Backoff bounds of the LISTEN reconnection (default 100 ms .. 5 s). */
  reconnectBackoffMs?: { min: number; max: number };
}

const ALL: ReadonlySet<CatalogueTable> = new Set(CATALOGUE_TABLES);
const NO_ANCESTORS: readonly string[] = Object.freeze([]);
/** A scope holds at most this many levels (the subject included): SPEC §2. */
export const MAX_SCOPE_DEPTH = 4;
const MAX_CACHED_LIMITS = 10_000;

/**
 * Tiers, subjects, models and per-model limits held in memory for synchronous lookups on the
 * check path. Follows SQL edits within about a second (LISTEN/NOTIFY, reconnecting when the
 * connection dies), with a periodic full reload as backstop. A failed reload keeps the last good
 * catalogue, so checks go on while Postgres is unreachable.
 */
@Injectable()
export class CatalogueService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CatalogueService.name);
  private readonly repository: CatalogueRepository;
  private snapshot: CatalogueSnapshot | undefined;
  private tierList: readonly TierEntry[] = [];
  private encodings: readonly string[] = [];
  private limitsCache = new Map<string, Limits>();
  private warned = new Set<string>();
  private loadedAt = 0;
  /** Rows left out because they cannot be used, by table: row name → reason. */
  private skipped = new Map<CatalogueTable, ReadonlyMap<string, string>>();
  /** Every models row name, usable or skipped, to resolve a name while some row is skipped. */
  private modelRows: ReadonlyMap<string, string> = new Map();
  /** The bucket limits' recent edits, attached to the limits handed to the stores. */
  private readonly history = new LimitHistory();

  private readonly feed: CatalogueFeed;
  private reloadTimer: NodeJS.Timeout | undefined;
  /** Reloads run one after another, so an older read never overwrites a newer one. */
  private reloads: Promise<void> = Promise.resolve();

  constructor(
    dataSource: DataSource,
    private readonly options: CatalogueOptions,
  ) {
    this.repository = new CatalogueRepository(dataSource);
    this.feed = new CatalogueFeed({
      listen: options.listen,
      debounceMs: options.debounceMs,
      reconnectBackoffMs: options.reconnectBackoffMs,
      logger: this.logger,
      // A failed reload is logged and keeps the last good catalogue; the next one tries again.
      onChange: (tables) => void this.reload(tables).catch(() => undefined),
    });
  }

  /** Loads everything. A bad row (even DEFAULT_TIER's) is logged and skipped, never fatal. */
  async onModuleInit(): Promise<void> {
    // Listen before the first load, so no edit can fall between the two.
    await this.feed.start();
    try {
      await this.reload();
    } catch (error) {
      await this.onModuleDestroy();
      throw error;
    }
    this.reloadTimer = setInterval(() => {
      this.reload().catch(() => undefined); // Logged by reload; the last good catalogue stays.
    }, this.options.reloadSeconds * 1000);
    this.reloadTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.reloadTimer);
    await this.feed.stop();
    await this.reloads;
  }

  /** The tier of a subject: its subjects row, else DEFAULT_TIER. */
  tierOf(subject: string): string {
    const { subjects, tiers } = this.current();
    const tier = subjects.get(subject);
    if (tier === undefined) {
      return this.options.defaultTier;
    }
    // A skipped tier stays the subject's tier: its checks answer 503, never another tier's limits.
    if (!tiers.has(tier) && !this.skipped.get('tiers')?.has(tier)) {
      this.warnOnce(
        `${subject}\u0000${tier}`,
        `Subject "${subject}" names tier "${tier}", which does not exist; using "${this.options.defaultTier}"`,
      );
      return this.options.defaultTier;
    }
    return tier;
  }

  /**
   * The subject's ancestors, nearest first (its parent, the parent's parent, …): the rest of its
   * scope (SPEC §2). Empty for a subject without a parent. The database keeps scopes acyclic and
   * at most 4 levels deep; the walk stops there anyway.
   */
  ancestorsOf(subject: string): readonly string[] {
    const { parents } = this.current();
    let parent = parents.get(subject);
    if (parent === undefined) {
      return NO_ANCESTORS;
    }
    const ancestors: string[] = [];
    while (parent !== undefined && ancestors.length < MAX_SCOPE_DEPTH - 1) {
      if (parent === subject || ancestors.includes(parent)) {
        break;
      }
      ancestors.push(parent);
      parent = parents.get(parent);
    }
    return ancestors;
  }

  tier(name: string): TierEntry | undefined {
    return this.current().tiers.get(name);
  }

  tiers(): readonly TierEntry[] {
    this.current();
    return this.tierList;
  }

  /**
   * Every limit that applies to (tier, model): the tier's own and its tier_model_limits row.
   * A null model gives the tier's limits alone (no per-model buckets), e.g. for a usage view.
   */
  limitsFor(tier: string, model: string | null): Limits {
    // Postgres text holds no NUL, so a second NUL cannot be any model's name.
    const key = model === null ? `${tier}\u0000\u0000` : modelLimitKey(tier, model);
    const cached = this.limitsCache.get(key);
    if (cached !== undefined) {
      return cached;
    }
    const { tiers, modelLimits } = this.current();
    const entry = tiers.get(tier);
    if (entry === undefined) {
      const reason = this.skipped.get('tiers')?.get(tier);
      if (reason !== undefined) {
        throw new TierUnavailableError(tier, reason);
      }
      if (tier === this.options.defaultTier) {
        throw new TierUnavailableError(tier, 'DEFAULT_TIER has no row in tiers');
      }
      throw new UnknownTierError(tier);
    }
    // A (tier, '*') row limits each model that has no row of its own, like the '*' model.
    const perModel =
      model === null
        ? undefined
        : (modelLimits.get(key) ?? modelLimits.get(modelLimitKey(tier, '*')));
    const modelKey =
      model === null ? undefined : modelLimits.has(key) ? key : modelLimitKey(tier, '*');
    const history = this.history;
    const own = tierBuckets(entry);
    const limits: Limits = Object.freeze({
      requests: history.attach(`${tier}\u0000rq`, own.requests),
      tokens: history.attach(`${tier}\u0000tk`, own.tokens),
      concurrent: entry.maxConcurrent,
      dailyCostMicros: entry.dailyCostLimitMicros,
      monthlyCostMicros: entry.monthlyCostLimitMicros,
      modelRequests: history.attach(`${modelKey}\u0000rq`, modelBuckets(perModel).requests),
      modelTokens: history.attach(`${modelKey}\u0000tk`, modelBuckets(perModel).tokens),
    });
    if (this.limitsCache.size >= MAX_CACHED_LIMITS) {
      this.limitsCache.clear(); // Model names come from callers: keep the cache bounded.
    }
    this.limitsCache.set(key, limits);
    return limits;
  }

  /**
   * The row a model name resolves to (exact, without a `provider/` prefix, without a dated
   * snapshot suffix: resolveModelRow), else the `*` row under the asked name, else undefined.
   * The entry's `name` is what limits and the ledger use: the row's, or the asked one under `*`.
   */
  model(name: string): ModelEntry | undefined {
    const { models } = this.current();
    const skipped = this.skipped.get('models');
    if (skipped !== undefined && skipped.size > 0) {
      // A name whose row was skipped is never priced by a shorter row or by `*` instead.
      const row = resolveModelRow(this.modelRows, name) ?? '*';
      const reason = skipped.get(row);
      if (reason !== undefined) {
        throw new ModelUnavailableError(row, reason);
      }
    }
    const own = resolveModelRow(models, name);
    if (own !== undefined) {
      return own;
    }
    const fallback = models.get('*');
    return fallback === undefined ? undefined : Object.freeze({ ...fallback, name });
  }

  /** As model(), but an unpriced model is refused (400 unknown_model), never free. */
  requireModel(name: string): ModelEntry {
    const entry = this.model(name);
    if (entry === undefined) {
      throw new UnknownModelError(name);
    }
    return entry;
  }

  /** Distinct encodings named by the models table (for the tokenizer to warm up). */
  modelEncodings(): readonly string[] {
    this.current();
    return this.encodings;
  }

  /** The rows left out of the catalogue because they cannot be used (for metrics). */
  skippedRows(): { table: CatalogueTable; row: string; reason: string }[] {
    return [...this.skipped].flatMap(([table, rows]) =>
      [...rows].map(([row, reason]) => ({ table, row, reason })),
    );
  }

  /** When the catalogue last loaded successfully (epoch ms). */
  get loadedAtMs(): number {
    return this.loadedAt;
  }

  /** Whether edits are being heard now (false while the LISTEN connection reconnects). */
  get listening(): boolean {
    return this.feed.listening;
  }

  /** The LISTEN connection's server pid, for tests and diagnostics. */
  get listenerPid(): number | undefined {
    return this.feed.backendPid;
  }

  /**
   * Reads the given tables (default all) and swaps them in. Rejects, keeping the last good
   * catalogue, only when Postgres cannot be read; unusable rows are skipped and logged.
   */
  reload(tables: Iterable<CatalogueTable> = ALL): Promise<void> {
    const wanted = new Set(tables);
    // A tier rename cascades into subjects and tier_model_limits.
    if (wanted.has('tiers')) {
      wanted.add('subjects').add('tier_model_limits');
    }
    const run = this.reloads.then(() => this.load(wanted));
    this.reloads = run.catch(() => undefined);
    return run;
  }

  private async load(tables: ReadonlySet<CatalogueTable>): Promise<void> {
    let next: CatalogueSnapshot;
    let skipped: Partial<Record<CatalogueTable, SkippedRow[]>>;
    try {
      // Until a first load has succeeded there is nothing to patch: read everything.
      const loaded = await this.repository.load(this.snapshot === undefined ? ALL : tables);
      next = { ...this.snapshot, ...loaded.snapshot } as CatalogueSnapshot;
      skipped = loaded.skipped;
    } catch (error) {
      this.logger.warn(
        `Catalogue reload failed (${describe(error)}); keeping the one loaded at ${new Date(this.loadedAt).toISOString()}`,
      );
      throw error;
    }
    for (const table of CATALOGUE_TABLES) {
      const rows = skipped[table];
      if (rows !== undefined) {
        this.noteSkipped(table, rows);
      }
    }
    if (!next.tiers.has(this.options.defaultTier)) {
      const lost = this.snapshot === undefined || this.snapshot.tiers.has(this.options.defaultTier);
      if (lost && !this.skipped.get('tiers')?.has(this.options.defaultTier)) {
        this.logger.error(
          `DEFAULT_TIER "${this.options.defaultTier}" is not a row of tiers: checks of subjects without a row answer 503 tier_unavailable until it is added`,
        );
      }
    }
    this.noteLimitEdits(this.snapshot, next);
    this.snapshot = next;
    const skippedModels = this.skipped.get('models')?.keys() ?? [];
    this.modelRows = new Map([...next.models.keys(), ...skippedModels].map((n) => [n, n]));
    this.tierList = Object.freeze([...next.tiers.values()]);
    this.encodings = Object.freeze([
      ...new Set(
        [...next.models.values()].flatMap((m) => (m.encoding === null ? [] : [m.encoding])),
      ),
    ]);
    this.limitsCache = new Map();
    this.warned = new Set();
    this.loadedAt = Date.now();
  }

  /** Records each bucket limit this reload changed, so buckets written before follow (§3). */
  private noteLimitEdits(before: CatalogueSnapshot | undefined, after: CatalogueSnapshot): void {
    if (before === undefined) {
      return;
    }
    const now = Date.now();
    const edits = [
      ...changedEntries(before.tiers, after.tiers, tierBuckets),
      ...changedEntries(before.modelLimits, after.modelLimits, modelBuckets),
    ];
    for (const [key, was, is] of edits) {
      this.history.record(`${key}\u0000rq`, was.requests, is.requests, now);
      this.history.record(`${key}\u0000tk`, was.tokens, is.tokens, now);
    }
  }

  /** Logs each newly skipped row once (one error line), and forgets rows that were fixed. */
  private noteSkipped(table: CatalogueTable, rows: readonly SkippedRow[]): void {
    const before = this.skipped.get(table);
    const now = new Map(rows.map(({ row, reason }) => [row, reason]));
    for (const [row, reason] of now) {
      if (before?.get(row) !== reason) {
        this.logger.error(`Catalogue: skipped ${table} row "${row}": ${reason}`);
      }
    }
    this.skipped.set(table, now);
  }

  private current(): CatalogueSnapshot {
    if (this.snapshot === undefined) {
      throw new Error('CatalogueService used before onModuleInit loaded it');
    }
    return this.snapshot;
  }

  private warnOnce(key: string, message: string): void {
    if (!this.warned.has(key)) {
      this.warned.add(key);
      this.logger.warn(message);
    }
  }
}

function bucket(capacity: number | null, perMinute: number | null): BucketLimit | null {
  return capacity === null || perMinute === null ? null : { capacity, perMinute };
}

interface Buckets {
  requests: BucketLimit | null;
  tokens: BucketLimit | null;
}

/** The rows present before and after a reload whose buckets are another object, as pairs. */
function changedEntries<T>(
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
  buckets: (entry: T) => Buckets,
): [string, Buckets, Buckets][] {
  const changed: [string, Buckets, Buckets][] = [];
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (old !== undefined && old !== entry) {
      changed.push([key, buckets(old), buckets(entry)]);
    }
  }
  return changed;
}

/** A tier's requests and tokens buckets (capacity: token_burst, else the per-minute limit). */
function tierBuckets(entry: TierEntry): Buckets {
  return {
    requests: bucket(entry.requestsPerMinute, entry.requestsPerMinute),
    tokens: bucket(entry.tokenBurst ?? entry.tokensPerMinute, entry.tokensPerMinute),
  };
}

/** A tier_model_limits row's buckets (none without a row). */
function modelBuckets(entry: ModelLimitEntry | undefined): Buckets {
  return {
    requests: bucket(entry?.requestsPerMinute ?? null, entry?.requestsPerMinute ?? null),
    tokens: bucket(entry?.tokensPerMinute ?? null, entry?.tokensPerMinute ?? null),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
