import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig, validateEnvironment } from '#config';
import { StartupError, assertDatabaseReady, redactUrl } from '#ledger';
import { BudgetStore } from '#budget';
import { createApp } from './app.factory.js';
import { BootstrapKeyService } from './auth/bootstrap-key.service.js';
import { apiKeyLines } from './start-banner.js';

async function main(): Promise<void> {
  const env = validateEnvironment(process.env);
  // A shared database that cannot be reached or is not migrated stops the start at once, with
  // the one line to act on (SPEC §6); the embedded one is migrated on start.
  if (env.DATABASE_URL !== undefined) {
    await assertDatabaseReady(env.DATABASE_URL);
  }
  const app = await createApp(env);
  stopGracefully(app);
  const config = app.get(AppConfig);
  await app.listen({ port: config.get('PORT'), host: config.get('HOST') });

  const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
  const store = app.get(BudgetStore);
  const { announcedKey, origin, keptIn } = app.get(BootstrapKeyService);
  const lines = [
    `token-budget listening on ${url}`,
    `  store:    ${store.mode === 'redis' ? `redis (${redact(config.get('REDIS_URL'))}); on Redis failure: ${config.get('REDIS_FAILURE_MODE')}` : 'in-process (single instance)'}`,
    `  database: ${config.embeddedDatabase ? `embedded PGlite under ${config.get('DATA_DIR')}` : `postgres (${redact(config.get('DATABASE_URL'))})`}`,
    `  expired reservations: ${config.get('EXPIRED_RESERVATION_POLICY')}; default tier: ${config.get('DEFAULT_TIER')}`,
    ...apiKeyLines(announcedKey, origin, url, keptIn),
    `  docs:     ${url}/docs`,
    `  dashboard: ${url}/dashboard (sign in with an admin key)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * SIGTERM/SIGINT: stop accepting (new requests get 503), let in-flight requests finish, then
 * flush the ledger and close Redis and Postgres (the modules' shutdown hooks), then exit 0.
 * The HTTP server is drained first, by hand: Nest's app.close() runs the OnModuleDestroy hooks
 * (the tokenizer's worker pool among them) before it closes the server, under requests that are
 * still being answered.
 */
function stopGracefully(app: NestFastifyApplication): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stdout.write(`${signal} received: finishing in-flight requests, then exiting\n`);
    drain(app)
      .then(() => app.close())
      .then(
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

/**
 * Resolves once every in-flight request is answered: new connections are refused, new requests
 * on open ones get 503 (return503OnClosing), and connections are closed as soon as they are idle
 * (a keep-alive connection would otherwise hold the server open until its timeout).
 */
async function drain(app: NestFastifyApplication): Promise<void> {
  app.getHttpAdapter().beforeClose?.();
  const server = app.getHttpServer();
  const reaper = setInterval(() => server.closeIdleConnections(), 100);
  try {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  } finally {
    clearInterval(reaper);
  }
}

function redact(url: string | undefined): string {
  return redactUrl(url ?? '');
}

main().catch((error: unknown) => {
  // One line to act on, never a stack trace (SPEC §6).
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `token-budget did not start: ${error instanceof StartupError ? message : message.split('\n').join(' ')}\n`,
  );
  process.exit(1);
});
