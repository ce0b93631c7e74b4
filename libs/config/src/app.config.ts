import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { EnvironmentVariables } from './env.schema.js';

/** Typed, read-only access to the validated environment: the only way code reads configuration. */
@Injectable()
export class AppConfig {
  constructor(private readonly config: ConfigService<EnvironmentVariables, true>) {}

  get<K extends keyof EnvironmentVariables>(key: K): EnvironmentVariables[K] {
    return this.config.get(key, { infer: true });
  }

  /** Embedded mode: no DATABASE_URL means the PGlite database under DATA_DIR. */
  get embeddedDatabase(): boolean {
    return this.get('DATABASE_URL') === undefined;
  }
}
