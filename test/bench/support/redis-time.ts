import type { Redis } from 'ioredis';

/** Calls and microseconds per command, from INFO commandstats. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  const text = await redis.info('commandstats');
  for (const match of text.matchAll(/^cmdstat_(\S+?):calls=(\d+),usec=(\d+)/gm)) {
    stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

const SCRIPT = /^(evalsha|eval|evalsha_ro|eval_ro)$/;

/**
 * Script calls (EVALSHA, EVAL and their read-only forms): the round trips, since commands a
 * script runs inside Redis are counted in commandstats too.
 */
export function scriptCalls(stats: CommandStats): number {
  let total = 0;
  for (const [name, { calls }] of stats) {
    if (SCRIPT.test(name)) {
      total += calls;
    }
  }
  return total;
}

/**
 * Where Redis spent its time per request in one run: each command's calls and microseconds
 * (a script's time includes the commands it runs, which are listed after it), and what is left
 * of the scripts' time once their commands are taken out: the Lua itself.
 */
export function redisTimeLine(before: CommandStats, after: CommandStats, requests: number): string {
  const rows: { name: string; calls: number; usec: number }[] = [];
  for (const [name, now] of after) {
    const was = before.get(name) ?? { calls: 0, usec: 0 };
    if (now.calls > was.calls && name !== 'info') {
      rows.push({ name, calls: now.calls - was.calls, usec: now.usec - was.usec });
    }
  }
  const scripts = rows.filter((row) => SCRIPT.test(row.name));
  const inside = rows.filter((row) => !scripts.includes(row));
  const total = (list: typeof rows) => list.reduce((sum, row) => sum + row.usec, 0) / requests;
  const show = (row: (typeof rows)[0]) =>
    `${row.name} ${(row.calls / requests).toFixed(2)}× ${(row.usec / requests).toFixed(1)}`;
  return `scripts ${total(scripts).toFixed(1)} µs/req (${scripts.map(show).join(', ')}); commands ${total(inside).toFixed(1)} µs/req (${inside
    .sort((a, b) => b.usec - a.usec)
    .map(show)
    .join(', ')}); Lua and its conversions ${(total(scripts) - total(inside)).toFixed(1)} µs/req`;
}
