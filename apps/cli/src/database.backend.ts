import type { Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { validateEnvironment } from '#config';
import { dataSourceOptions, holdEmbeddedDatabase } from '#ledger';
import type { Caller } from '../../api/src/auth/caller.js';
import { checkName } from '../../api/src/admin/admin.params.js';
import { CreateKeyDto, RotateKeyDto } from '../../api/src/admin/keys.dto.js';
import { KeysService } from '../../api/src/admin/keys.service.js';
import { SpendQuery } from '../../api/src/admin/spend.dto.js';
import { type SpendReport, SpendService } from '../../api/src/admin/spend.service.js';
import { SubjectDto } from '../../api/src/admin/subjects.dto.js';
import { SubjectsService } from '../../api/src/admin/subjects.service.js';
import { TierDto } from '../../api/src/admin/tiers.dto.js';
import { TiersService } from '../../api/src/admin/tiers.service.js';
import { createValidationPipe } from '../../api/src/http/validation.pipe.js';
import type {
  AdminKey,
  AdminSubject,
  AdminTier,
  IssuedKey,
  SpendQuery as SpendOptions,
  SubjectInput,
  TierInput,
} from '#client';
import type { AdminBackend } from './admin.backend.js';

/** A row as the admin services answer it, untyped (the client's types name its fields). */
type Row = Record<string, unknown>;

/** Who the audit rows name for changes made without the service. */
const CLI_ACTOR: Caller = { name: 'admin-cli', role: 'admin' };

/**
 * The admin API's own services, validation and audit over the database (DATABASE_URL, or the
 * embedded one under DATA_DIR, which it holds while it runs: never beside a running service).
 */
export class DatabaseBackend implements AdminBackend {
  private readonly pipe = createValidationPipe();
  private readonly tiers: TiersService;
  private readonly subjects: SubjectsService;
  private readonly keys: KeysService;
  private readonly spending: SpendService;

  private constructor(
    private readonly db: DataSource,
    readonly target: string,
  ) {
    this.tiers = new TiersService(db);
    this.subjects = new SubjectsService(db);
    this.keys = new KeysService(db);
    this.spending = new SpendService(db);
  }

  static async open(env: NodeJS.ProcessEnv): Promise<DatabaseBackend> {
    const config = validateEnvironment(env);
    const embedded = config.DATABASE_URL === undefined;
    if (embedded) {
      holdEmbeddedDatabase(config.DATA_DIR, 'token-budget service or admin CLI');
    }
    const db = new DataSource({
      ...dataSourceOptions(config),
      migrationsRun: embedded,
      // A failed command is reported once, as `error: <sentence>`, not also as a logged query.
      logger: 'simple-console',
      logging: false,
    });
    await db.initialize();
    return new DatabaseBackend(
      db,
      embedded ? `the embedded database under ${config.DATA_DIR}` : 'the database',
    );
  }

  async listKeys(): Promise<AdminKey[]> {
    return (await this.keys.list()) as unknown as AdminKey[];
  }

  async createKey(name: string, role: string): Promise<IssuedKey> {
    const dto = await this.valid(CreateKeyDto, { name, role });
    return (await this.keys.create(CLI_ACTOR, dto)) as unknown as IssuedKey;
  }

  async rotateKey(name: string, graceSeconds: number): Promise<IssuedKey> {
    const dto = await this.valid(RotateKeyDto, { grace_seconds: graceSeconds });
    const name_ = checkName('key name', name);
    return (await this.keys.rotate(
      CLI_ACTOR,
      name_,
      dto.grace_seconds ?? 0,
    )) as unknown as IssuedKey;
  }

  async revokeKey(name: string): Promise<AdminKey> {
    return (await this.keys.revoke(CLI_ACTOR, checkName('key name', name))) as unknown as AdminKey;
  }

  async listTiers(): Promise<AdminTier[]> {
    return (await this.tiers.list()) as unknown as AdminTier[];
  }

  async putTier(name: string, tier: TierInput): Promise<AdminTier> {
    const dto = await this.valid(TierDto, { ...tier });
    await this.tiers.put(CLI_ACTOR, checkName('tier name', name), dto);
    return (await this.tiers.get(name)) as unknown as AdminTier;
  }

  async putSubject(id: string, subject: SubjectInput): Promise<AdminSubject> {
    const dto = await this.valid(SubjectDto, { ...subject });
    await this.subjects.put(CLI_ACTOR, checkName('subject id', id), dto);
    return (await this.subjects.get(id)) as unknown as AdminSubject;
  }

  async spend(options: SpendOptions): Promise<SpendReport> {
    const plain = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    return this.spending.report(await this.valid(SpendQuery, plain, 'query'));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  /** The plain object as the API's ValidationPipe would pass it to the service, or its 400. */
  private async valid<T>(
    metatype: Type<T>,
    value: Row,
    type: 'body' | 'query' = 'body',
  ): Promise<T> {
    return (await this.pipe.transform(value, { type, metatype, data: '' })) as T;
  }
}
