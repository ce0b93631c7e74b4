import { constants, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { CountReply, CountRequest } from './count.messages.js';
import { loadPieceCounter } from './piece.counter.js';

/**
 * A counting thread: its own encodings (loaded once, on first use or on a `load` request) and its
 * own piece cache. Counts run to the end here; this thread has no event loop anyone waits on.
 */
const port = parentPort;
if (port === null) {
  throw new Error('count.worker.js must run as a worker thread (see CountPool).');
}

// When the cores are busy, the event loop must win the CPU over counting. Linux keeps a nice
// value per thread, and pid 0 means the calling thread: only this worker is lowered.
if (process.platform === 'linux') {
  try {
    setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not permitted in some sandboxes; counting works the same, only less politely.
  }
}

port.on('message', (request: CountRequest) => {
  void answer(request).then((reply) => port.postMessage(reply));
});

async function answer(request: CountRequest): Promise<CountReply> {
  try {
    switch (request.kind) {
      case 'load':
        await Promise.all(request.encodings.map((name) => loadPieceCounter(name)));
        return { id: request.id, tokens: 0 };
      case 'count': {
        const counter = await loadPieceCounter(request.encoding);
        return { id: request.id, tokens: counter.countAll(request.texts) };
      }
    }
  } catch (error) {
    return { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
}
