import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The embedded database (PGlite under DATA_DIR) lives in the memory of the one process that
 * opened it: another process opening the same files would read a stale copy and its writes would
 * be lost. So whoever opens it (the service, the admin CLI) holds DATA_DIR/db.lock, naming its
 * pid, and nobody opens it while a live process holds it.
 */
export const EMBEDDED_LOCK_FILE = 'db.lock';

/** The embedded database under `dataDir` is held by another live process. */
export class EmbeddedDatabaseHeldError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly holder: string,
  ) {
    super(
      `the embedded database under ${dataDir} is held by a running ${holder} (pid ${pid}); ` +
        'stop it first, or use its admin API (TOKEN_BUDGET_URL and TOKEN_BUDGET_ADMIN_KEY)',
    );
  }
}

function lockFile(dataDir: string): string {
  return join(resolve(dataDir), EMBEDDED_LOCK_FILE);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process other than this one that holds the database, or null. */
export function embeddedDatabaseHolder(dataDir: string): { pid: number; holder: string } | null {
  let text: string;
  try {
    text = readFileSync(lockFile(dataDir), 'utf8');
  } catch {
    return null;
  }
  const line = text.trim();
  const space = line.indexOf(' ');
  const pid = Number(space < 0 ? line : line.slice(0, space));
  const holder = space < 0 ? 'process' : line.slice(space + 1);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || !alive(pid)) {
    return null; // A stale lock (its process is gone) or our own.
  }
  return { pid, holder };
}

/**
 * Holds the embedded database under `dataDir` for this process (`holder` names it in refusals),
 * or throws EmbeddedDatabaseHeldError. Answers the release, which is also done at exit.
 */
export function holdEmbeddedDatabase(dataDir: string, holder: string): () => void {
  const found = embeddedDatabaseHolder(dataDir);
  if (found) {
    throw new EmbeddedDatabaseHeldError(dataDir, found.pid, found.holder);
  }
  mkdirSync(resolve(dataDir), { recursive: true });
  const file = lockFile(dataDir);
  writeFileSync(file, `${process.pid} ${holder}\n`, { mode: 0o600 });
  const release = (): void => {
    process.off('exit', release);
    try {
      if (readFileSync(file, 'utf8').startsWith(`${process.pid} `)) {
        unlinkSync(file);
      }
    } catch {
      // Already gone.
    }
  };
  process.on('exit', release);
  return release;
}
