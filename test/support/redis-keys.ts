import { type Cluster, Redis } from 'ioredis';

/**
 * The one way tests find and delete their Redis keys: SCAN for exactly the keys under a prefix
 * (never anything else: other test files share this Redis), on every master of a Cluster.
 */

/** A SCAN glob matching exactly the keys under `prefix`. */
function underPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

function mastersOf(client: Redis | Cluster): Redis[] {
  return 'nodes' in client ? client.nodes('master') : [client];
}

async function scanNode(node: Redis, prefix: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', underPrefix(prefix), 'COUNT', 1000);
    cursor = next;
    keys.forEach((key) => found.add(key));
  } while (cursor !== '0');
  return [...found];
}

const UNLINK_BATCH = 1_000;

/** Deletes every key under `prefix` through an open client; returns how many. */
export async function unlinkUnder(client: Redis | Cluster, prefix: string): Promise<number> {
  let deleted = 0;
  for (const node of mastersOf(client)) {
    const keys = await scanNode(node, prefix);
    if (keys.length === 0) {
      continue;
    }
    // On a Cluster, keys of different slots cannot share a command: one UNLINK per key. Else
    // UNLINK_BATCH keys per command: a run leaves hundreds of thousands (bench:scope), more than
    // one call's arguments may hold.
    const counts =
      'nodes' in client
        ? await Promise.all(keys.map((key) => node.unlink(key)))
        : await Promise.all(
            Array.from({ length: Math.ceil(keys.length / UNLINK_BATCH) }, (_, i) =>
              node.unlink(...keys.slice(i * UNLINK_BATCH, (i + 1) * UNLINK_BATCH)),
            ),
          );
    deleted += counts.reduce((sum, count) => sum + count, 0);
  }
  return deleted;
}

async function withRedis<T>(redisUrl: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** Every key under `prefix`. */
export function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  return withRedis(redisUrl, (redis) => scanNode(redis, prefix));
}

/** Deletes every key under `prefix` and only those (a targeted flush); returns how many. */
export function deleteKeysUnder(redisUrl: string, prefix: string): Promise<number> {
  return withRedis(redisUrl, (redis) => unlinkUnder(redis, prefix));
}
