import 'reflect-metadata';
import { parseArgs } from 'node:util';
import type { AdminBackend } from './admin.backend.js';
import { ApiBackend } from './api.backend.js';
import { COMMANDS, type Flags, USAGE, print } from './cli.commands.js';
import { DatabaseBackend } from './database.backend.js';

const FLAGS = [
  'role',
  'grace-seconds',
  'rpm',
  'tpm',
  'burst',
  'concurrent',
  'daily-usd',
  'monthly-usd',
  'tier',
  'parent',
  'from',
  'to',
  'group-by',
  'subject',
  'limit',
  'day',
] as const;

/** The running service's admin API when it is named, else the database itself. */
async function backendFor(env: NodeJS.ProcessEnv): Promise<AdminBackend> {
  const url = env.TOKEN_BUDGET_URL?.trim();
  const key = env.TOKEN_BUDGET_ADMIN_KEY?.trim();
  if (url) {
    if (!key) {
      throw new Error('TOKEN_BUDGET_URL is set but TOKEN_BUDGET_ADMIN_KEY (an admin key) is not');
    }
    return new ApiBackend(url, key);
  }
  return DatabaseBackend.open(env);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      ...Object.fromEntries(FLAGS.map((name) => [name, { type: 'string' as const }])),
      csv: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [group, action, ...rest] = positionals;
  const name = COMMANDS[`${group} ${action}`] ? `${group} ${action}` : group;
  const command = name ? COMMANDS[name] : undefined;
  if (values.help === true || !command) {
    print(USAGE);
    process.exitCode = values.help === true ? 0 : 2;
    return;
  }
  const backend = await backendFor(process.env);
  try {
    await command(
      backend,
      name === group ? [action, ...rest].filter(Boolean) : rest,
      values as Flags,
    );
  } finally {
    await backend.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
