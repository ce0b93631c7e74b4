import { readFileSync, readdirSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * CPU seconds a process has used so far, all its threads counted (Linux /proc); NaN where /proc
 * or the process is missing.
 */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) {
    return NaN;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name's ")": state is field 3 of proc(5), utime 14 and stime 15, in
    // USER_HZ ticks (100 per second on Linux).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds used so far by every process whose command name is `name` (`postgres`: the
 * server and all its backends); NaN without /proc. Processes that ended in between are not
 * counted, so a long-lived server's figure is a floor.
 */
export function namedProcessesCpuSeconds(name: string): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return NaN;
  }
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === name) {
        total += processCpuSeconds(Number(pid)) || 0;
      }
    } catch {
      // ended while being read
    }
  }
  return total;
}

/** This process's own CPU seconds (the load generator). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** CPU seconds the Redis server has used (INFO cpu, its main thread and the others). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  return field('used_cpu_sys') + field('used_cpu_user');
}
