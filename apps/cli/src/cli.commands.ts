import { spendCsv } from '../../api/src/admin/spend.service.js';
import type { AdminTier, IssuedKey, SpendGroup } from '#client';
import type { AdminBackend } from './admin.backend.js';

export const USAGE = `token-budget admin commands

  keys create <name> [--role caller|admin]
                           create a key; prints it once (only its SHA-256 is stored)
  keys list                list keys (name, created, revoked, role)
  keys rotate <name> [--grace-seconds N]
                           a new key for <name>, printed once; the old one stops now or after N s
  keys revoke <name>       revoke a key (takes effect within 2 s)
  tiers list               list tiers and their limits
  tiers set <name> [--rpm N] [--tpm N] [--burst N] [--concurrent N]
            [--daily-usd X] [--monthly-usd X]
                           create or replace a tier: a limit not given is unlimited
  subjects set <id> --tier <tier> [--parent <id>]
                           put a subject on a tier (and under a parent; none when not given)
  spend [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--group-by subject|model|tier|caller|day]
        [--subject <id>] [--limit N] [--csv]
                           spend by group, most first (default: this month by subject)
  usage <subject> [--day YYYY-MM-DD]
                           a subject's (and its members') charged usage of a UTC day (default today)

Through a running service when TOKEN_BUDGET_URL and TOKEN_BUDGET_ADMIN_KEY (an admin key) are
set; otherwise on the database directly (DATABASE_URL, else the embedded one under DATA_DIR,
which only works while no service holds it).`;

export type Flags = Partial<Record<string, string | boolean>>;

type Command = (backend: AdminBackend, args: string[], flags: Flags) => Promise<void>;

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A flag's text, or undefined; `--flag` without a value is an error. */
function text(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  if (value === true) {
    throw new Error(`--${name} needs a value`);
  }
  return value === false ? undefined : value;
}

/** A whole number flag, or null when absent (unlimited); anything else is refused. */
function count(flags: Flags, name: string): number | null {
  const value = text(flags, name);
  if (value === undefined) {
    return null;
  }
  if (!/^\d+$/.test(value)) {
    throw new Error(`--${name} must be a whole number, got ${value}`);
  }
  return Number(value);
}

function required(value: string | undefined, what: string): string {
  if (!value) {
    throw new Error(`${what} is missing (see --help)`);
  }
  return value;
}

const time = (value: unknown): string =>
  value === null || value === undefined
    ? '-'
    : value instanceof Date
      ? value.toISOString()
      : String(value);

const limit = (value: unknown): string =>
  value === null || value === undefined ? 'unlimited' : String(value);

function printTiers(tiers: AdminTier[]): void {
  print('tier\trequests/min\ttokens/min\tburst\tconcurrent\tdaily_usd\tmonthly_usd\tsubjects');
  for (const tier of tiers) {
    print(
      [
        tier.name,
        limit(tier.requests_per_minute),
        limit(tier.tokens_per_minute),
        tier.token_burst ?? '-',
        limit(tier.max_concurrent),
        limit(tier.daily_cost_limit_usd),
        limit(tier.monthly_cost_limit_usd),
        tier.subjects ?? 0,
      ]
        .map(String)
        .join('\t'),
    );
  }
}

function printKey(verb: string, row: IssuedKey): void {
  print(`${verb} "${String(row.name)}" (${String(row.role)}); its API key (shown once):`);
  print(String(row.key));
}

export const COMMANDS: Record<string, Command> = {
  'keys create': async (backend, [name], flags) => {
    const role = text(flags, 'role') ?? 'caller';
    printKey('created', await backend.createKey(required(name, 'the key name'), role));
  },
  'keys list': async (backend) => {
    print('name\tcreated_at\trevoked_at\trole');
    for (const key of await backend.listKeys()) {
      print(
        [key.name, time(key.created_at), time(key.revoked_at), key.role].map(String).join('\t'),
      );
    }
  },
  'keys rotate': async (backend, [name], flags) => {
    const grace = count(flags, 'grace-seconds') ?? 0;
    const row = await backend.rotateKey(required(name, 'the key name'), grace);
    printKey('rotated', row);
    print(
      row.previous_key_expires_at
        ? `the previous key works until ${time(row.previous_key_expires_at)}`
        : 'the previous key is revoked',
    );
  },
  'keys revoke': async (backend, [name]) => {
    const row = await backend.revokeKey(required(name, 'the key name'));
    print(`revoked "${String(row.name)}" at ${time(row.revoked_at)}`);
  },
  'tiers list': async (backend) => {
    printTiers(await backend.listTiers());
  },
  'tiers set': async (backend, [name], flags) => {
    const tier = await backend.putTier(required(name, 'the tier name'), {
      requests_per_minute: count(flags, 'rpm'),
      tokens_per_minute: count(flags, 'tpm'),
      token_burst: count(flags, 'burst'),
      max_concurrent: count(flags, 'concurrent'),
      daily_cost_limit_usd: text(flags, 'daily-usd') ?? null,
      monthly_cost_limit_usd: text(flags, 'monthly-usd') ?? null,
    });
    printTiers([tier]);
  },
  'subjects set': async (backend, [id], flags) => {
    const row = await backend.putSubject(required(id, 'the subject id'), {
      tier: required(text(flags, 'tier'), '--tier'),
      parent: text(flags, 'parent') ?? null,
    });
    print(
      `subject "${String(row.id)}": tier ${String(row.tier)}, parent ${String(row.parent ?? '-')}`,
    );
  },
  spend: async (backend, _args, flags) => {
    const report = await backend.spend({
      from: text(flags, 'from'),
      to: text(flags, 'to'),
      // The service refuses a group it does not know, with its own sentence.
      group_by: text(flags, 'group-by') as SpendGroup | undefined,
      subject: text(flags, 'subject'),
      limit: count(flags, 'limit') ?? undefined,
    });
    if (flags.csv === true) {
      process.stdout.write(spendCsv(report.rows));
      return;
    }
    print(`spend ${report.from} .. ${report.to} by ${report.group_by}`);
    print(
      `${report.group_by}\tcost_usd\trequests\tprompt_tokens\tcompletion_tokens\tcached_tokens`,
    );
    for (const row of [...report.rows, { ...report.total, key: '(total)' }]) {
      print(
        [
          row.key ?? '-',
          row.cost_usd,
          row.requests,
          row.prompt_tokens,
          row.completion_tokens,
          row.cached_tokens,
        ]
          .map(String)
          .join('\t'),
      );
    }
  },
  usage: async (backend, [subject], flags) => {
    const day = text(flags, 'day') ?? new Date().toISOString().slice(0, 10);
    const { total } = await backend.spend({
      from: day,
      to: day,
      group_by: 'day',
      subject: required(subject, 'the subject id'),
    });
    print(`subject ${subject}, ${day} (UTC)`);
    print(`  cost_usd          ${total.cost_usd}`);
    print(`  requests          ${total.requests}`);
    print(`  prompt_tokens     ${total.prompt_tokens}`);
    print(`  completion_tokens ${total.completion_tokens}`);
  },
};
