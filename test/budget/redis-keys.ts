import type { Redis } from 'ioredis';
import type { RedisClient } from '#budget';

/** Deletes every key matching `pattern` on every master. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  const nodes: Redis[] = 'nodes' in client ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // One UNLINK per key: on a Cluster, keys of different slots cannot share a command.
      await Promise.all(keys.map((key) => node.unlink(key)));
    } while (cursor !== '0');
  }
}
