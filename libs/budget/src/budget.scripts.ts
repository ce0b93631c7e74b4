import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** One operation, one script: each is the shared prelude (lib.lua) followed by its own file. */
export type ScriptName =
  'reserve' | 'commit' | 'refund' | 'expire' | 'usage' | 'pending' | 'confirm';

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
    const lib = read('lib');
    const names: ScriptName[] = [
      'reserve',
      'commit',
      'refund',
      'expire',
      'usage',
      'pending',
      'confirm',
    ];
    loaded = new Map(
      names.map((name) => {
        const source = `${lib}\n${read(name)}`;
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
