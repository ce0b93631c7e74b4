import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '#config';
import { ApiClientRepository, generateApiKey, hashApiKey } from '#ledger';

const BOOTSTRAP_CLIENT = 'bootstrap';
const EMBEDDED_CLIENT = 'embedded-default';
/** The embedded admin key, under DATA_DIR beside the database it opens. */
export const EMBEDDED_KEY_FILE = 'api-key';

/** Where the key the banner names came from. */
export type KeyOrigin = 'configured' | 'generated' | 'kept';

/**
 * BOOTSTRAP_API_KEY ensures that admin key exists. On embedded defaults without it, the key kept
 * in DATA_DIR/api-key is ensured, or, on the first start, a new one is made and kept there (only
 * its hash goes to the database), so a restart keeps the key the user was given (SPEC §6).
 */
@Injectable()
export class BootstrapKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapKeyService.name);
  /** The key to print at start, when this process knows one. */
  announcedKey: string | null = null;
  /** Only a key made by this start is printed in clear. */
  origin: KeyOrigin = 'configured';
  /** The file an embedded key is kept in. */
  keptIn: string | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly clients: ApiClientRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const configured = this.config.get('BOOTSTRAP_API_KEY');
    if (configured !== undefined) {
      await this.clients.upsertKey(BOOTSTRAP_CLIENT, hashApiKey(configured), 'admin');
      this.announcedKey = configured;
      this.logger.log(`API client "${BOOTSTRAP_CLIENT}" ensured from BOOTSTRAP_API_KEY`);
    } else if (this.config.embeddedDatabase) {
      const dataDir = resolve(this.config.get('DATA_DIR'));
      const file = join(dataDir, EMBEDDED_KEY_FILE);
      const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
      const key = kept === '' ? generateApiKey() : kept;
      if (kept === '') {
        mkdirSync(dataDir, { recursive: true });
        writeFileSync(file, `${key}\n`, { mode: 0o600 });
      }
      await this.clients.upsertKey(EMBEDDED_CLIENT, hashApiKey(key), 'admin');
      this.announcedKey = key;
      this.origin = kept === '' ? 'generated' : 'kept';
      this.keptIn = file;
    }
  }
}
