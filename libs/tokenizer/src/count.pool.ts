import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CountReply, CountRequest } from './count.messages.js';
import type { EncodingName } from './encoding.registry.js';
import { partitionTexts } from './text.partition.js';

/**
 * Where the worker's code is. Node 20 worker threads cannot load TypeScript, so a worker must be
 * a compiled `.js` file. Compiled (production, the bench), this module sits in
 * dist/libs/tokenizer/src/ next to count.worker.js. Under vitest it runs from its `.ts` source,
 * and the worker is the compiled twin that `npm run build` (run by `npm test`) leaves in dist/.
 */
export function resolveWorkerUrl(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('../../../dist/libs/tokenizer/src/count.worker.js', moduleUrl)
    : new URL('./count.worker.js', moduleUrl);
}

/** A count is spread over several workers only when each gets at least this much text. */
const MIN_CHARS_PER_WORKER = 100_000;

interface Pending {
  resolve: (tokens: number) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * A fixed number of counting threads, started on first use. A count goes to the least busy
 * thread, or is cut (see text.partition.ts) and spread over several when it is large. A thread
 * that dies fails its own counts and is replaced on the next one.
 */
export class CountPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(
    readonly size: number,
    private readonly workerUrl: URL = resolveWorkerUrl(),
  ) {
    if (!existsSync(fileURLToPath(workerUrl))) {
      throw new Error(
        `The tokenizer worker is missing at ${fileURLToPath(workerUrl)}: run \`npm run build\`.`,
      );
    }
  }

  async count(encoding: EncodingName, texts: readonly string[]): Promise<number> {
    const batches = partitionTexts(texts, this.size, MIN_CHARS_PER_WORKER);
    const counts = await Promise.all(
      batches.map((batch) => this.send({ id: 0, kind: 'count', encoding, texts: batch })),
    );
    return counts.reduce((sum, tokens) => sum + tokens, 0);
  }

  /** Whether a count sent now would start at once rather than wait behind another. */
  get hasIdleWorker(): boolean {
    return this.slots.length < this.size || this.slots.some((slot) => slot.pending.size === 0);
  }

  /** Starts every thread and loads the encodings in each, so that no request pays for it. */
  async load(encodings: EncodingName[]): Promise<void> {
    while (!this.closed && this.slots.length < this.size) {
      this.spawn();
    }
    await Promise.all(
      this.slots.map((slot) => this.sendTo(slot, { id: 0, kind: 'load', encodings })),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const slot of slots) {
      this.fail(slot, new Error('The token counter is shutting down.'));
    }
  }

  private send(request: CountRequest): Promise<number> {
    return this.sendTo(this.leastBusy(), request);
  }

  private sendTo(slot: Slot, request: CountRequest): Promise<number> {
    if (this.closed) {
      return Promise.reject(new Error('The token counter is shut down.'));
    }
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      if (slot.pending.size === 0) {
        slot.worker.ref(); // busy: a pending count must keep the process alive
      }
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ ...request, id });
    });
  }

  private leastBusy(): Slot {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (best === undefined || slot.pending.size < best.pending.size) {
        best = slot;
      }
    }
    if (best === undefined || (best.pending.size > 0 && this.slots.length < this.size)) {
      return this.spawn();
    }
    return best;
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.workerUrl), pending: new Map() };
    slot.worker.unref(); // idle threads never keep the process alive
    slot.worker.on('message', (reply: CountReply) => this.settle(slot, reply));
    slot.worker.on('error', (error) => this.retire(slot, error));
    slot.worker.on('exit', (code) => {
      this.retire(slot, new Error(`A tokenizer worker exited with code ${code}.`));
    });
    this.slots.push(slot);
    return slot;
  }

  private settle(slot: Slot, reply: CountReply): void {
    const pending = slot.pending.get(reply.id);
    if (pending === undefined) {
      return;
    }
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) {
      slot.worker.unref();
    }
    if ('error' in reply) {
      pending.reject(new Error(reply.error));
    } else {
      pending.resolve(reply.tokens);
    }
  }

  private retire(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) {
      this.slots.splice(index, 1);
    }
    this.fail(slot, error);
    void slot.worker.terminate();
  }

  private fail(slot: Slot, error: Error): void {
    for (const pending of slot.pending.values()) {
      pending.reject(error);
    }
    slot.pending.clear();
  }
}
