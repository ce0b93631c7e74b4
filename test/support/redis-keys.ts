import { Redis } from 'ioredis';

/** A SCAN glob matching exactly the keys under `prefix`. */
function underPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** Every key under `prefix` (never anything else: other test files share this Redis). */
export async function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', underPrefix(prefix), 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return [...new Set(found)];
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix` and only those (a targeted flush); returns how many. */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<number> {
  const keys = await keysUnder(redisUrl, prefix);
  if (keys.length === 0) {
    return 0;
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    return await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}
