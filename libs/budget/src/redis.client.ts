import { Cluster, type ClusterNode, type Command, Redis, type RedisOptions } from 'ioredis';
import { type RedisClient, trackRedisClock } from './budget.scripts.js';

/**
 * Commands issued in the same event-loop turn leave in one write per node (the sweeps read
 * 1,024 index zsets per pass). A batch waits while the one before it is in flight, so such a
 * command can wait one timeout behind a hung batch before its own starts: at most twice
 * REDIS_COMMAND_TIMEOUT_MS in all.
 *
 * Except scripts (every check, commit and refund): they are written at once. Batched, checks
 * queue behind the one batch in flight; measured on /v1/check, three runs each: 3,776 vs 3,434
 * checks/s at max rate, server-side p99 at a steady 1,800/s 4-8 ms vs 7-12 ms.
 */
const PIPELINING = {
  enableAutoPipelining: true,
  autoPipeliningIgnoredCommands: ['evalsha', 'eval'],
};

export interface RedisClientOptions {
  /** Every command fails after this long instead of hanging (SPEC §7). */
  commandTimeoutMs: number;
}

/**
 * `redis://` or `rediss://` → one node; `redis-cluster://[user:pass@]h1:p1,h2:p2` (or
 * `rediss-cluster://` for TLS) → a Cluster seeded with those nodes.
 *
 * No request may hang while Redis is down: commands time out, nothing is queued while offline
 * (a stale reserve replayed minutes later would be wrong), and each command is retried at most
 * once. The connection itself keeps reconnecting in the background so the store comes back.
 */
export function createRedisClient(url: string, opts: RedisClientOptions): RedisClient {
  // No ioredis commandTimeout: bounded() times every command out instead.
  const common: RedisOptions = {
    ...PIPELINING,
    connectTimeout: Math.max(1_000, opts.commandTimeoutMs),
    enableOfflineQueue: false,
    // A command written before a connection dropped is failed, never written again on the next
    // connection: its caller may have given up and decided without it (SPEC §7).
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * times, 2_000),
  };
  const cluster = /^(rediss?)-cluster:\/\/(.*)$/.exec(url);
  if (!cluster) {
    if (!/^rediss?:\/\//.test(url)) {
      throw new Error(
        'REDIS_URL must start with redis://, rediss://, redis-cluster:// or rediss-cluster://',
      );
    }
    return bounded(new Redis(url, common), opts.commandTimeoutMs);
  }
  const tls = cluster[1] === 'rediss';
  const rest = cluster[2]!;
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const hosts = (at >= 0 ? rest.slice(at + 1) : rest).replace(/\/.*$/, '');
  const nodes: ClusterNode[] = hosts.split(',').map((hostPort) => {
    const colon = hostPort.lastIndexOf(':');
    const host = colon > 0 ? hostPort.slice(0, colon) : hostPort;
    const port = colon > 0 ? Number(hostPort.slice(colon + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65_535) {
      throw new Error(`REDIS_URL names an invalid cluster node "${hostPort}"`);
    }
    return { host, port };
  });
  const colon = auth.indexOf(':');
  const username = colon >= 0 ? decodeURIComponent(auth.slice(0, colon)) : undefined;
  const password = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth) || undefined;
  const client = new Cluster(nodes, {
    ...PIPELINING,
    enableOfflineQueue: false,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2_000),
    slotsRefreshTimeout: Math.max(1_000, opts.commandTimeoutMs),
    // Bounded redirections: a resharding cluster answers or fails, it does not keep us waiting.
    maxRedirections: 4,
    redisOptions: {
      ...common,
      username: username || undefined,
      password,
      tls: tls ? {} : undefined,
    },
  });
  return bounded(client, opts.commandTimeoutMs);
}

/**
 * Fails each command `ms` after it is sent, like ioredis' commandTimeout, except that the
 * deadline is judged after the replies that already arrived are read. ioredis' timer fires in
 * the timers phase, before the poll phase of the same loop turn: a process that was merely busy
 * for `ms` (a burst of requests) would time out commands whose replies sit unread in the socket,
 * and REDIS_FAILURE_MODE would then decide locally, on this instance's view alone, while Redis
 * is fine. setImmediate() runs after the poll phase, so only a Redis that did not answer fails.
 */
function bounded<T extends RedisClient>(client: T, ms: number): T {
  // Connection errors surface through the commands that fail (FailoverBudgetStore logs and counts
  // them); without a listener ioredis prints every reconnect attempt to stderr, past LOG_LEVEL.
  client.on('error', () => undefined);
  trackRedisClock(client, ms);
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  client.sendCommand = (command: Command, ...rest: unknown[]): unknown => {
    const timer = setTimeout(() => {
      setImmediate(() => command.reject(new Error('Command timed out')));
    }, ms);
    const clear = (): void => clearTimeout(timer);
    command.promise.then(clear, clear);
    return send(command, ...rest);
  };
  return client;
}

/** Resolves once the client can take commands (it takes none before: no offline queue). */
export async function whenReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') {
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${client.status})`));
    }, timeoutMs);
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}
