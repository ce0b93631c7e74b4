import { describe, expect, it } from 'vitest';
import {
  type BatchEvent,
  GroupCommitQueue,
  type GroupCommitOptions,
} from './group-commit.queue.js';

const options: GroupCommitOptions = {
  maxWaitMs: 5,
  maxBatchSize: 4,
  maxConcurrentBatches: 1,
  timeoutMs: 1_000,
};

function recorder(write: (items: number[]) => Promise<void> = () => Promise.resolve()) {
  const batches: number[][] = [];
  const run = (items: number[]): Promise<void> => {
    batches.push(items);
    return write(items);
  };
  return { batches, run };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GroupCommitQueue', () => {
  it('sends items submitted together as one batch after the wait', async () => {
    const { batches, run } = recorder();
    const queue = new GroupCommitQueue(run, options, () => new Error('timeout'));
    await Promise.all([1, 2, 3].map((n) => queue.submit(n)));
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('sends at once when the batch is full, and splits larger bursts', async () => {
    const { batches, run } = recorder();
    const queue = new GroupCommitQueue(
      run,
      { ...options, maxWaitMs: 60_000, maxConcurrentBatches: 3 },
      () => new Error('timeout'),
    );
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((n) => queue.submit(n)));
    expect(batches).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it('gathers the next batch while one is being written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { batches, run } = recorder((items) => (items[0] === 1 ? gate : Promise.resolve()));
    const queue = new GroupCommitQueue(run, options, () => new Error('timeout'));
    const first = queue.submit(1);
    await sleep(20);
    const rest = [2, 3, 4].map((n) => queue.submit(n));
    await sleep(20);
    expect(batches).toEqual([[1]]); // one slot: 2..4 wait for it
    expect(queue.pending).toBe(4);
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(queue.pending).toBe(0);
  });

  it('rejects every waiter of a failed batch and reports it', async () => {
    const events: BatchEvent[] = [];
    const { run } = recorder(() => Promise.reject(new Error('db down')));
    const queue = new GroupCommitQueue(run, options, () => new Error('timeout'));
    queue.onBatch((event) => events.push(event));
    const results = await Promise.allSettled([queue.submit(1), queue.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(events).toEqual([expect.objectContaining({ size: 2, ok: false })]);
  });

  it('fails a write that hangs after the timeout and frees its slot', async () => {
    const { batches, run } = recorder((items) =>
      items[0] === 1 ? new Promise<void>(() => undefined) : Promise.resolve(),
    );
    const queue = new GroupCommitQueue(
      run,
      { ...options, timeoutMs: 50 },
      (ms) => new Error(`no answer in ${ms} ms`),
    );
    await expect(queue.submit(1)).rejects.toThrow('no answer in 50 ms');
    await queue.submit(2);
    expect(batches).toEqual([[1], [2]]);
  });

  it('counts the deadline from submission, not from the write: a queued item waits no longer', async () => {
    const { batches, run } = recorder(() => new Promise<void>(() => undefined));
    const queue = new GroupCommitQueue(
      run,
      { ...options, maxWaitMs: 1, timeoutMs: 300 },
      (ms) => new Error(`no answer in ${ms} ms`),
    );
    const first = queue.submit(1).catch((error: unknown) => error);
    await sleep(200);
    // The only slot is held by the hung write: 2 queues for 100 ms, then has 200 ms of its own
    // (not 300: 400 ms in all).
    const started = performance.now();
    const second = await queue.submit(2).catch((error: unknown) => error);
    const waited = performance.now() - started;
    expect(String(await first)).toContain('no answer in 300 ms');
    expect(String(second)).toContain('no answer in 300 ms');
    expect(waited).toBeLessThan(300 + 70);
    expect(batches).toEqual([[1], [2]]);
  });

  it('drain sends what is queued without waiting and never rejects', async () => {
    const { batches, run } = recorder(() => Promise.reject(new Error('db down')));
    const queue = new GroupCommitQueue(
      run,
      { ...options, maxWaitMs: 60_000 },
      () => new Error('timeout'),
    );
    const pending = queue.submit(1).catch((error: unknown) => error);
    await queue.drain();
    expect(batches).toEqual([[1]]);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('a throwing batch listener does not fail the batch', async () => {
    const { run } = recorder();
    const queue = new GroupCommitQueue(run, options, () => new Error('timeout'));
    queue.onBatch(() => {
      throw new Error('metrics bug');
    });
    await expect(queue.submit(1)).resolves.toBeUndefined();
  });
});
