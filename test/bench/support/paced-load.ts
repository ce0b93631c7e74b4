import { build as buildHistogram } from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface PacedLoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** The body of the n-th request. */
  body: (n: number) => string;
  /** Requests per second, sent evenly: request n leaves at start + n / rate. */
  rate: number;
  seconds: number;
  /** Keep-alive connections the requests are spread over. */
  connections: number;
}

export interface PacedLoadResult {
  sent: number;
  ok: number;
  failed: number;
  /** Latency percentiles in milliseconds, from each request's send to its whole answer. */
  p50: number;
  p99: number;
  max: number;
}

/**
 * An open-loop load at a steady rate: requests leave on schedule whether or not earlier ones
 * were answered, so a slow answer never holds back the next request. Requests leave on a timer
 * tick, up to ~1 ms after their slot; latency runs from the moment each one is sent.
 *
 * autocannon's fixed-rate mode cannot measure this: each connection runs flat out until it has
 * made its share of the second, then waits for the next second (a half rate is max-rate bursts
 * half of the time), and its latencies are whole milliseconds back-filled for 1 ms intervals.
 */
export async function pacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1 });
  const histogram = buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9 });
  const total = Math.round(options.rate * options.seconds);
  const intervalNs = 1e9 / options.rate;
  const start = process.hrtime.bigint();
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (n: number): void => {
    const sentAt = process.hrtime.bigint();
    const request = pool
      .request({
        path: options.path,
        method: 'POST',
        headers: options.headers,
        body: options.body(n),
      })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode >= 200 && response.statusCode < 300) {
          ok += 1;
        } else {
          failed += 1;
        }
      })
      .catch(() => {
        failed += 1;
      })
      .finally(() => {
        histogram.recordValue(Number(process.hrtime.bigint() - sentAt));
        inFlight.delete(request);
      });
    inFlight.add(request);
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(
        total,
        Math.floor(Number(process.hrtime.bigint() - start) / intervalNs) + 1,
      );
      while (sent < due) {
        send(sent);
        sent += 1;
      }
      if (sent >= total) {
        resolve();
        return;
      }
      // The next request's time, at timer resolution (~1 ms): late ones leave in the next tick.
      setTimeout(
        tick,
        Math.max(0, (sent * intervalNs - Number(process.hrtime.bigint() - start)) / 1e6),
      );
    };
    tick();
  });
  await Promise.all(inFlight);
  await pool.close();
  const ms = (ns: number): number => ns / 1e6;
  return {
    sent,
    ok,
    failed,
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
  };
}
