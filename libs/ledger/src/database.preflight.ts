import pg from 'pg';
import { MIGRATIONS } from '#migrations';

/** How long a start waits for the database before it gives up (SPEC §6: ends within 10 s). */
const CONNECT_TIMEOUT_MS = 4_000;

/** A start that cannot go on: its message is the one line an operator needs. */
export class StartupError extends Error {}

/**
 * Before the service starts on a shared database: it can be reached and every migration is
 * applied. Otherwise a StartupError naming DATABASE_URL or the command to run, within seconds,
 * instead of retries and stack traces.
 */
export async function assertDatabaseReady(databaseUrl: string): Promise<void> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: CONNECT_TIMEOUT_MS,
  });
  const where = redactUrl(databaseUrl);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new StartupError(
      `Cannot reach the database at DATABASE_URL=${where} (${reason(error)}): check DATABASE_URL and that Postgres is running.`,
    );
  }
  try {
    const applied = await appliedMigrations(client);
    const pending = MIGRATIONS.map((migration) => new migration().name).filter(
      (name) => name !== undefined && !applied.has(name),
    );
    if (pending.length > 0) {
      throw new StartupError(
        `The database at DATABASE_URL=${where} is not migrated (${pending.length} of ${MIGRATIONS.length} migrations pending): run \`npm run migration:run\` with the same DATABASE_URL, then start again.`,
      );
    }
  } catch (error) {
    if (error instanceof StartupError) {
      throw error;
    }
    throw new StartupError(
      `The database at DATABASE_URL=${where} could not be read (${reason(error)}): check DATABASE_URL (its user needs access to the token-budget tables).`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function appliedMigrations(client: pg.Client): Promise<Set<string>> {
  const table = await client.query<{ present: boolean }>(
    "SELECT to_regclass('token_budget_migrations') IS NOT NULL AS present",
  );
  if (!table.rows[0]?.present) {
    return new Set();
  }
  const rows = await client.query<{ name: string }>('SELECT name FROM token_budget_migrations');
  return new Set(rows.rows.map((row) => row.name));
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}

/** Never print a password from a connection URL. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
