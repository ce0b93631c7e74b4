import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Cluster, Command, type Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** One operation, one script: its preludes followed by its own file. */
export type ScriptName =
  'reserve' | 'commit' | 'refund' | 'cancel' | 'expire' | 'usage' | 'pending' | 'confirm';

/**
 * The shared helpers each script is prepended with. Redis runs a script's whole text on every
 * call, defining every helper again, so each script gets only the helpers it uses.
 */
const SETTLING = ['lib', 'lib-buckets', 'lib-index', 'lib-settle'];
const PRELUDES: Record<ScriptName, string[]> = {
  reserve: ['lib', 'lib-buckets'],
  commit: SETTLING,
  refund: SETTLING,
  cancel: SETTLING,
  expire: SETTLING,
  usage: ['lib'],
  pending: ['lib', 'lib-index'],
  confirm: ['lib', 'lib-index'],
};

interface LoadedScript {
  source: string;
  sha: string;
}

function read(name: string): string {
  // Relative to this file: next to the sources under vitest, copied into dist/ by the build.
  return readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
}

let loaded: Map<ScriptName, LoadedScript> | undefined;

function scripts(): Map<ScriptName, LoadedScript> {
  if (!loaded) {
    loaded = new Map(
      (Object.keys(PRELUDES) as ScriptName[]).map((name) => {
        const source = [...PRELUDES[name], name].map(read).join('\n');
        return [name, { source, sha: createHash('sha1').update(source).digest('hex') }];
      }),
    );
  }
  return loaded;
}

/**
 * Where this process stands against Redis's clock, so each script can be given a deadline in
 * Redis time: a script that reaches Redis after its caller gave up (a Redis that hung, then woke,
 * running what sat in its socket) answers LATE without writing anything (lib.lua clock()).
 *
 * Redis TIME is read between local times t0 and t1; T − t1 is a lower bound of the offset, so
 * `sent + timeout + (T − t1)` is never later, in Redis time, than the moment the caller's command
 * timer fires. Re-read every few seconds and on each (re)connection.
 */
interface RedisClock {
  timeoutMs: number;
  offsetMs: number | undefined;
  syncing: Promise<void> | undefined;
}

const clocks = new WeakMap<RedisClient, RedisClock>();
const CLOCK_SYNC_EVERY_MS = 5_000;

/** Gives every script run on `client` a deadline `timeoutMs` after it is sent (createRedisClient). */
export function trackRedisClock(client: RedisClient, timeoutMs: number): void {
  const clock: RedisClock = { timeoutMs, offsetMs: undefined, syncing: undefined };
  clocks.set(client, clock);
  const sync = (): void => {
    if (client.status === 'ready') {
      syncClock(client, clock).catch(() => undefined);
    }
  };
  client.on('ready', sync);
  const timer = setInterval(sync, CLOCK_SYNC_EVERY_MS);
  timer.unref();
  client.once('end', () => clearInterval(timer));
}

function syncClock(client: RedisClient, clock: RedisClock): Promise<void> {
  clock.syncing ??= (async () => {
    try {
      const t0 = Date.now();
      const [seconds, micros] = await client.time();
      const t1 = Date.now();
      const redisMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      if (t1 - t0 <= clock.timeoutMs) {
        clock.offsetMs = redisMs - t1;
      }
    } finally {
      clock.syncing = undefined;
    }
  })();
  return clock.syncing;
}

/**
 * The Redis time after which a script sent now must not act; -1 for an untracked client. A
 * number when the clock is known (every call but the first: no promise per script), else a
 * promise of it.
 */
function deadline(client: RedisClient): number | Promise<number> {
  const clock = clocks.get(client);
  if (!clock) {
    return -1;
  }
  if (clock.offsetMs === undefined) {
    return syncClock(client, clock).then(() => {
      if (clock.offsetMs === undefined) {
        throw new Error('Redis clock unknown: TIME did not answer within the command timeout');
      }
      return deadlineOf(clock);
    });
  }
  return deadlineOf(clock);
}

function deadlineOf(clock: RedisClock): number {
  // Redis TIME is floored to the millisecond in the script: one more keeps the bound safe.
  return Date.now() + clock.offsetMs! + clock.timeoutMs - 1;
}

/** Replies as strings, as client.evalsha() gives them. */
const UTF8 = { replyEncoding: 'utf8' } as const;

/** A script's LATE answer: it reached Redis after its caller gave up, and changed nothing. */
export class LateScriptError extends Error {
  override readonly name = 'LateScriptError';
}

/**
 * EVALSHA, and EVAL (which also caches the script) when the node answers NOSCRIPT: after a
 * restart, a failover, or on a Cluster node that never saw the script.
 */
export async function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const script = scripts().get(name)!;
  const due = deadline(client);
  // One argument list, built once: keys, arguments, and always last the deadline (lib.lua
  // clock() reads ARGV[#ARGV]).
  const all: (string | number)[] = [script.sha, keys.length, ...keys, ...args];
  all.push(typeof due === 'number' ? due : await due);
  try {
    try {
      // The command itself, not client.evalsha(): no copy of the arguments on the way. (Writing
      // it as one Buffer instead of ioredis's string saves ~6 KB of heap per call but costs
      // ~5 µs more CPU: one native write per argument.)
      return await client.sendCommand(new Command('evalsha', all, UTF8));
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        all[0] = script.source;
        return await client.sendCommand(new Command('eval', all, UTF8));
      }
      throw error;
    }
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('LATE')) {
      throw new LateScriptError(
        `Redis ran the ${name} script after its deadline: ${error.message}`,
      );
    }
    throw error;
  }
}
