import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '../../../libs/config/src/index.js';
import { BudgetStore } from '../../../libs/budget/src/index.js';
import { createApp } from './app.factory.js';
import { BootstrapKeyService } from './auth/bootstrap-key.service.js';

async function main(): Promise<void> {
  const app = await createApp();
  stopGracefully(app);
  const config = app.get(AppConfig);
  await app.listen({ port: config.get('PORT'), host: config.get('HOST') });

  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const store = app.get(BudgetStore);
  const key = app.get(BootstrapKeyService).announcedKey;
  const lines = [
    `token-budget listening on ${url}`,
    `  store:    ${store.mode === 'redis' ? `redis (${redact(config.get('REDIS_URL'))})` : 'in-process (single instance)'}; on Redis failure: ${config.get('REDIS_FAILURE_MODE')}`,
    `  database: ${config.embeddedDatabase ? `embedded PGlite under ${config.get('DATA_DIR')}` : `postgres (${redact(config.get('DATABASE_URL'))})`}`,
    `  expired reservations: ${config.get('EXPIRED_RESERVATION_POLICY')}; default tier: ${config.get('DEFAULT_TIER')}`,
    key
      ? `  API key:  ${key}\n  try:      curl -H "Authorization: Bearer ${key}" ${url}/v1/subjects/user_123/usage`
      : '  API keys: create one with `npm run cli -- keys create <name>`',
    `  docs:     ${url}/docs`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * SIGTERM/SIGINT: stop accepting (new requests get 503), let in-flight requests finish, flush the
 * ledger and close Redis and Postgres (the modules' shutdown hooks), then exit 0.
 */
function stopGracefully(app: NestFastifyApplication): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stdout.write(`${signal} received: finishing in-flight requests, then exiting\n`);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Never print a password from a connection URL. */
function redact(url: string | undefined): string {
  return (url ?? '').replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
