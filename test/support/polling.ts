import { randomBytes } from 'node:crypto';

/** A unique name for fixtures, so test files sharing the run's database and Redis never collide. */
export function unique(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/**
 * Polls `probe` until it neither throws nor returns false (so it may assert with `expect`, or
 * answer a boolean); returns how long that took, in ms. After `timeoutMs` it fails with the
 * probe's last error.
 */
export async function eventually(
  probe: () => unknown,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    let failure: unknown;
    try {
      if ((await probe()) !== false) {
        return performance.now() - started;
      }
      failure = new Error(`condition not met within ${timeoutMs} ms`);
    } catch (error) {
      failure = error;
    }
    if (performance.now() - started > timeoutMs) {
      throw failure;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
