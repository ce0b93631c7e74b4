import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  value === '' ? undefined : value;

/** Every environment variable the service reads (SPEC §6), with its default. */
export class EnvironmentVariables {
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 3000;
  @IsString() HOST = '0.0.0.0';

  /** A node (`redis://host:port`) or a cluster (`redis-cluster://h1:p1,h2:p2`); absent = in-process store. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(redis|rediss|redis-cluster):\/\/\S+$/, {
    message: 'must look like redis://host:port or redis-cluster://host:port,host:port',
  })
  REDIS_URL?: string;

  /** Absent = the embedded database under DATA_DIR. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must look like postgres://user@host:port/db' })
  DATABASE_URL?: string;

  @IsString() @MinLength(1) DEFAULT_TIER = 'free';
  @Transform(toInt) @IsInt() @Min(1) @Max(86_400) RESERVATION_TTL_SECONDS = 600;
  @Transform(toInt) @IsInt() @Min(1) @Max(86_400) RESERVATION_TTL_MAX_SECONDS = 3600;
  @IsIn(['charge', 'release']) EXPIRED_RESERVATION_POLICY: 'charge' | 'release' = 'charge';
  @IsIn(['local', 'open', 'closed']) REDIS_FAILURE_MODE: 'local' | 'open' | 'closed' = 'local';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  BOOTSTRAP_API_KEY?: string;

  /**
   * Signs reservation ids (HMAC-SHA256), which carry what settling needs when Redis lost the
   * reservation. Every instance sharing a store must use the same key; the default is for the
   * embedded single instance and tests only.
   */
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  RESERVATION_SIGNING_KEY = 'token-budget-embedded-reservation-signing-key';

  /** Prefix of every Redis key; lets several deployments (or test runs) share one Redis. */
  @IsString() REDIS_KEY_PREFIX = 'tb:';
  @Transform(toInt) @IsInt() @Min(10) @Max(60_000) REDIS_COMMAND_TIMEOUT_MS = 500;
  @IsString() @MinLength(1) DATA_DIR = './data';
  @Transform(toInt) @IsInt() @Min(1024) @Max(64 * 1024 * 1024) BODY_LIMIT_BYTES = 1024 * 1024;
  @Transform(toInt) @IsInt() @Min(1) @Max(3600) CATALOGUE_RELOAD_SECONDS = 30;
  @Transform(toInt) @IsInt() @Min(0) @Max(1000) LEDGER_BATCH_WAIT_MS = 2;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';

  /** Where budget alerts are POSTed; absent = alerts are only recorded (budget_alerts). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'must be an http(s) URL' },
  )
  ALERT_WEBHOOK_URL?: string;

  /** The HMAC-SHA256 key of X-Token-Budget-Signature; required with ALERT_WEBHOOK_URL. */
  @Transform(emptyToUndefined)
  @ValidateIf((env: EnvironmentVariables) => env.ALERT_WEBHOOK_URL !== undefined)
  @IsString({ message: 'must be set when ALERT_WEBHOOK_URL is' })
  @MinLength(16, { message: 'must be at least 16 characters' })
  ALERT_WEBHOOK_SECRET?: string;

  /** One delivery attempt gives up after this long (the webhook never holds anything else). */
  @Transform(toInt) @IsInt() @Min(100) @Max(60_000) ALERT_WEBHOOK_TIMEOUT_MS = 5_000;
  /** Retries wait base × 2^(attempt − 1), at most ALERT_RETRY_MAX_MS, with jitter. */
  @Transform(toInt) @IsInt() @Min(10) @Max(3_600_000) ALERT_RETRY_BASE_MS = 1_000;
  @Transform(toInt) @IsInt() @Min(10) @Max(86_400_000) ALERT_RETRY_MAX_MS = 3_600_000;
  /** How often each instance looks for alerts due (an instance that raises one looks at once). */
  @Transform(toInt) @IsInt() @Min(10) @Max(60_000) ALERT_POLL_MS = 1_000;
}

/** Never echoed in an error message. */
const SECRETS: ReadonlySet<string> = new Set(['BOOTSTRAP_API_KEY', 'ALERT_WEBHOOK_SECRET']);

/** Validates the environment once; a bad value throws one line naming the variable and the fault. */
export function validateEnvironment(env: Record<string, unknown>): EnvironmentVariables {
  const config = plainToInstance(EnvironmentVariables, env, { exposeDefaultValues: true });
  const errors = validateSync(config, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) =>
        `${error.property}=${SECRETS.has(error.property) && error.value !== undefined ? '"***"' : JSON.stringify(error.value)}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration: ${lines.join(' | ')}`);
  }
  if (config.RESERVATION_TTL_SECONDS > config.RESERVATION_TTL_MAX_SECONDS) {
    throw new Error(
      `Invalid configuration: RESERVATION_TTL_SECONDS=${config.RESERVATION_TTL_SECONDS} exceeds RESERVATION_TTL_MAX_SECONDS=${config.RESERVATION_TTL_MAX_SECONDS}`,
    );
  }
  if (config.ALERT_RETRY_BASE_MS > config.ALERT_RETRY_MAX_MS) {
    throw new Error(
      `Invalid configuration: ALERT_RETRY_BASE_MS=${config.ALERT_RETRY_BASE_MS} exceeds ALERT_RETRY_MAX_MS=${config.ALERT_RETRY_MAX_MS}`,
    );
  }
  return config;
}
