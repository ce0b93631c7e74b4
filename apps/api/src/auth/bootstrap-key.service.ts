import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '#config';
import { ApiClientRepository, generateApiKey, hashApiKey } from '#ledger';

const BOOTSTRAP_CLIENT = 'bootstrap';
const EMBEDDED_CLIENT = 'embedded-default';

/**
 * BOOTSTRAP_API_KEY ensures that admin key exists. On embedded defaults without it, a fresh key is
 * made at every start (only its hash is stored) so a first-time user has one to try.
 */
@Injectable()
export class BootstrapKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BootstrapKeyService.name);
  /** The key to print at start, when this process knows one. */
  announcedKey: string | null = null;
  /** Whether this process made the key (embedded defaults): only then is it printed in clear. */
  generated = false;

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
      const key = generateApiKey();
      await this.clients.upsertKey(EMBEDDED_CLIENT, hashApiKey(key), 'admin');
      this.announcedKey = key;
      this.generated = true;
    }
  }
}
