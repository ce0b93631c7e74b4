import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

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
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
    throw error;
  }
}
