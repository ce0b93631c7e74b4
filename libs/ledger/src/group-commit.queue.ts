/**
 * Group commit: items submitted close together share one write. A batch leaves when the oldest
 * waiting item has waited `maxWaitMs`, or at once when `maxBatchSize` items are waiting; at most
 * `maxConcurrentBatches` writes run at a time, and items keep gathering while they do (pipelining),
 * so under load each write carries whatever arrived during the previous one.
 */

export interface GroupCommitOptions {
  maxWaitMs: number;
  maxBatchSize: number;
  maxConcurrentBatches: number;
  /**
   * How long an item may wait from its submission, queued and written: a batch not written by
   * its oldest item's deadline fails its waiters and frees its slot, and a batch whose deadline
   * passed while it queued behind stuck writes fails without being sent. So no caller waits on a
   * hung connection longer than this. A write may still finish later: `write` must be idempotent.
   */
  timeoutMs: number;
}

export interface BatchEvent {
  size: number;
  durationMs: number;
  ok: boolean;
  /** Why the batch failed (when !ok). */
  error?: unknown;
}

/** Writes one batch; resolves when it is durable. */
export type BatchWrite<T> = (items: T[]) => Promise<void>;

interface Waiter<T> {
  item: T;
  /** performance.now() at submission. */
  since: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommitQueue<T> {
  private queue: Waiter<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * Everything queued may leave as soon as a slot is free: the oldest item has waited maxWaitMs,
   * or the cap was hit. Items arriving meanwhile join the next batch without a wait of their own.
   */
  private due = false;
  private inFlightItems = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly listeners = new Set<(event: BatchEvent) => void>();

  constructor(
    private readonly write: BatchWrite<T>,
    private readonly options: GroupCommitOptions,
    private readonly timeoutError: (timeoutMs: number) => Error,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, since: performance.now(), resolve, reject });
      if (this.queue.length >= this.options.maxBatchSize) {
        this.markDue();
      } else if (!this.due && this.timer === undefined) {
        this.timer = setTimeout(() => this.markDue(), this.options.maxWaitMs);
      }
    });
  }

  /** Sends everything queued now and waits until no write is running; never rejects. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running.size > 0) {
      if (this.queue.length > 0) {
        this.markDue();
      }
      await Promise.all(this.running);
    }
  }

  /** Items queued or being written. */
  get pending(): number {
    return this.queue.length + this.inFlightItems;
  }

  /** Observes every finished batch (metrics). Returns the unsubscribe function. */
  onBatch(listener: (event: BatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private markDue(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = true;
    this.dispatch();
  }

  private dispatch(): void {
    while (
      this.due &&
      this.queue.length > 0 &&
      this.running.size < this.options.maxConcurrentBatches
    ) {
      const run = this.run(this.queue.splice(0, this.options.maxBatchSize)).finally(() => {
        this.running.delete(run);
        this.dispatch();
      });
      this.running.add(run);
    }
    if (this.queue.length === 0) {
      this.due = false;
    }
  }

  /**
   * Resolves when the batch is settled or its oldest item's deadline passed (whichever comes
   * first); never rejects.
   */
  private run(batch: Waiter<T>[]): Promise<void> {
    const started = performance.now();
    const left = batch[0]!.since + this.options.timeoutMs - started;
    this.inFlightItems += batch.length;
    return new Promise<void>((done) => {
      let finished = false;
      const finish = (error: unknown, ok: boolean): void => {
        if (finished) {
          return;
        }
        finished = true;
        clearTimeout(timeout);
        this.inFlightItems -= batch.length;
        for (const waiter of batch) {
          if (ok) {
            waiter.resolve();
          } else {
            waiter.reject(error);
          }
        }
        const durationMs = performance.now() - started;
        this.emit(
          ok
            ? { size: batch.length, durationMs, ok }
            : { size: batch.length, durationMs, ok, error },
        );
        done();
      };
      const expire = (): void => finish(this.timeoutError(this.options.timeoutMs), false);
      const timeout = left > 0 ? setTimeout(expire, left) : undefined;
      if (timeout === undefined) {
        // Queued past its deadline behind writes that hang: sending it would only add another.
        expire();
        return;
      }
      this.write(batch.map((waiter) => waiter.item)).then(
        () => finish(undefined, true),
        (error: unknown) => finish(error, false),
      );
    });
  }

  private emit(event: BatchEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A failing metrics hook must never fail a commit.
      }
    }
  }
}
