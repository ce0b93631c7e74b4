import { writeFileSync } from 'node:fs';
import { GCProfiler, getHeapStatistics } from 'node:v8';

/**
 * Preloaded into a benchmarked server (`node --import alloc-probe.js main.js`): SIGUSR2 starts a
 * window, the next SIGUSR2 ends it and writes to ALLOC_PROBE_FILE the bytes the heap allocated
 * in it: the growth of used heap plus what every garbage collection in between freed.
 */
let profiler: GCProfiler | undefined;
let usedAtStart = 0;
process.on('SIGUSR2', () => {
  if (profiler === undefined) {
    profiler = new GCProfiler();
    usedAtStart = getHeapStatistics().used_heap_size;
    profiler.start();
    return;
  }
  const result = profiler.stop();
  profiler = undefined;
  let freed = 0;
  for (const gc of result?.statistics ?? []) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  }
  const allocated = getHeapStatistics().used_heap_size - usedAtStart + freed;
  writeFileSync(
    process.env.ALLOC_PROBE_FILE ?? 'alloc-probe.json',
    JSON.stringify({ allocated, gcs: result?.statistics.length ?? 0 }),
  );
});
