import { microsToUsd } from '#kernel';
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '#config';
import {
  ApiClientRepository,
  DailyUsageRepository,
  dataSourceOptions,
  generateApiKey,
  hashApiKey,
} from '#ledger';

const USAGE = `token-budget admin commands (same DATABASE_URL / DATA_DIR as the service)

  keys create <name>       create a caller; prints its API key once
  keys list                list callers (name, created, revoked)
  keys revoke <name>       revoke a caller's key (takes effect within 2 s)
  tiers list               list tiers and their limits
  usage <subject> [--day YYYY-MM-DD]
                           a subject's charged usage of a UTC day (default today)

With the embedded database, stop the service first: PGlite allows one process at a time.`;

type Command = (args: string[], ds: DataSource, day: string) => Promise<void>;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const COMMANDS: Record<string, Command> = {
  'keys create': async ([name], ds) => {
    if (!name) {
      throw new Error('keys create needs a name, e.g. `keys create my-gateway`');
    }
    const key = generateApiKey();
    await new ApiClientRepository(ds).create(name, hashApiKey(key));
    print(`created caller "${name}"; its API key (shown once, only its SHA-256 is stored):`);
    print(key);
  },
  'keys list': async (_args, ds) => {
    const clients = await new ApiClientRepository(ds).list();
    print('name\tcreated_at\trevoked_at');
    for (const client of clients) {
      print(
        `${client.name}\t${client.createdAt.toISOString()}\t${client.revokedAt?.toISOString() ?? '-'}`,
      );
    }
  },
  'keys revoke': async ([name], ds) => {
    if (!name) {
      throw new Error('keys revoke needs a name');
    }
    const client = await new ApiClientRepository(ds).revoke(name);
    if (!client) {
      throw new Error(`no caller named "${name}"`);
    }
    print(`revoked "${name}" at ${client.revokedAt?.toISOString()}`);
  },
  'tiers list': async (_args, ds) => {
    const rows: Record<string, string | null>[] = await ds.query(
      `SELECT name, requests_per_minute::text AS rpm, tokens_per_minute::text AS tpm,
              token_burst::text AS burst, max_concurrent::text AS concurrent,
              daily_cost_limit_usd::text AS daily_usd,
              (SELECT count(*) FROM subjects s WHERE s.tier = t.name)::text AS subjects
       FROM tiers t ORDER BY name`,
    );
    print('tier\trequests/min\ttokens/min\tburst\tconcurrent\tdaily_usd\tsubjects');
    for (const row of rows) {
      const cell = (value: string | null | undefined): string => value ?? 'unlimited';
      print(
        [
          row.name,
          cell(row.rpm),
          cell(row.tpm),
          row.burst ?? '-',
          cell(row.concurrent),
          cell(row.daily_usd),
          row.subjects,
        ].join('\t'),
      );
    }
  },
  usage: async ([subject], ds, day) => {
    if (!subject) {
      throw new Error('usage needs a subject id');
    }
    const totals = await new DailyUsageRepository(ds).today(subject, day);
    print(`subject ${subject}, ${day} (UTC)`);
    print(`  cost_usd          ${microsToUsd(totals.costMicros)}`);
    print(`  requests          ${totals.requests}`);
    print(`  prompt_tokens     ${totals.promptTokens}`);
    print(`  completion_tokens ${totals.completionTokens}`);
  },
};

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { day: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [group, action, ...rest] = positionals;
  const name = COMMANDS[`${group} ${action}`] ? `${group} ${action}` : group;
  const command = name ? COMMANDS[name] : undefined;
  if (values.help || !command) {
    print(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const day = values.day ?? new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    throw new Error(`--day must be YYYY-MM-DD, got ${day}`);
  }
  const env = validateEnvironment(process.env);
  const ds = new DataSource({
    ...dataSourceOptions(env),
    migrationsRun: env.DATABASE_URL === undefined,
    // A failed command is reported once, as `error: <sentence>`, not also as a logged query
    // (the service's own logger logs whatever `logging` says; a built-in one honours it).
    logger: 'simple-console',
    logging: false,
  });
  await ds.initialize();
  try {
    await command(name === group ? [action, ...rest].filter(Boolean) : rest, ds, day);
  } finally {
    await ds.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
