import { execFile } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';

/** Small measuring tools for the tokenizer bench: medians, event-loop stalls, a fresh RSS. */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function timeSync(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

export interface StallReport {
  /** The longest event-loop delay seen by perf_hooks (1 ms resolution), in ms. */
  longestDelayMs: number;
  p99DelayMs: number;
  /** The longest gap between ticks of a 1 ms interval timer, in ms (a second opinion). */
  longestTimerGapMs: number;
}

/** Runs `work` while two independent meters watch the event loop. */
export async function measureStalls(work: () => Promise<void>): Promise<StallReport> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 1);
  histogram.enable();
  try {
    await work();
  } finally {
    histogram.disable();
    clearInterval(ticker);
  }
  return {
    longestDelayMs: histogram.max / 1e6,
    p99DelayMs: histogram.percentile(99) / 1e6,
    // A 1 ms timer ticks at best every ~1 ms: the excess over that is the stall.
    longestTimerGapMs: Math.max(0, longestGap - 1),
  };
}

/** Runs this script again in a fresh process with `flag` and parses the JSON it prints. */
export async function inFreshProcess<T>(script: string, flag: string): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', script, flag], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

export function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1_048_576)} MB`;
}

/** Fixed-width columns: the first left-aligned, the rest right-aligned. */
export function row(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((cell, i) =>
      i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i] ?? 10),
    )
    .join(' ');
}
