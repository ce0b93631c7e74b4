import {
  BudgetRefusedError,
  DeadlineExceededError,
  NetworkError,
  TokenBudgetError,
  errorOf,
} from './client.errors.js';
import { AdminCalls } from './admin.calls.js';
import type {
  ApiRequest,
  CheckAllowed,
  CheckBody,
  CommitBody,
  EstimateBody,
  EstimateResult,
  RefundBody,
  Settled,
  SubjectUsage,
} from './client.types.js';

export interface TokenBudgetClientOptions {
  /** The service, e.g. `http://token-budget:3000`. */
  baseUrl: string;
  apiKey: string;
  /** One HTTP attempt's timeout (default 5 s). */
  timeoutMs?: number;
  /** The whole call, retries and waits included, ends by then (default 30 s). */
  deadlineMs?: number;
  /** Attempts of one call on a network error or a 5xx (default 5). */
  maxAttempts?: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs × 2^attempt) (defaults 100 ms, 5 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** On a refusal with retry_after_seconds, wait and check again within the deadline. */
  waitForBudget?: boolean;
  /** Another fetch (tests, proxies); default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Randomness for jitter and keys (tests); default Math.random / crypto.randomUUID. */
  random?: () => number;
}

export interface CallOptions {
  /** Overrides the client's deadline for this call. */
  deadlineMs?: number;
  /** Overrides the client's waitForBudget for this check. */
  waitForBudget?: boolean;
  signal?: AbortSignal;
}

/** A check answered 200 or 429: allowed, or the typed refusal (nothing reserved). */
export type CheckResult = CheckAllowed | { allowed: false; refusal: BudgetRefusedError };

/**
 * The token-budget API over fetch, nothing else: works in Node 20+ and edge runtimes. Every call
 * is retried on network errors and 5xx (exponential backoff, full jitter, Retry-After honoured)
 * until it succeeds, fails for good, or its deadline passes. Checks always carry an idempotency
 * key (generated when absent), so a retried check never reserves twice; the admin writes that
 * are not idempotent (a new key, a rotation) are sent once and never retried.
 */
export class TokenBudgetClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly random: () => number;
  /** The admin API (SPEC §4 "Admin API"): needs an admin key. */
  readonly admin: AdminCalls;
  readonly options: Required<
    Pick<
      TokenBudgetClientOptions,
      'timeoutMs' | 'deadlineMs' | 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'waitForBudget'
    >
  >;

  constructor(private readonly config: TokenBudgetClientOptions) {
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = config.fetch ?? globalThis.fetch.bind(globalThis);
    this.random = config.random ?? Math.random;
    this.options = {
      timeoutMs: config.timeoutMs ?? 5_000,
      deadlineMs: config.deadlineMs ?? 30_000,
      maxAttempts: config.maxAttempts ?? 5,
      baseDelayMs: config.baseDelayMs ?? 100,
      maxDelayMs: config.maxDelayMs ?? 5_000,
      waitForBudget: config.waitForBudget ?? false,
    };
    this.admin = new AdminCalls((request, options) => this.answer(request, options));
  }

  /** Reserves, or answers the typed refusal; with waitForBudget, waits while waiting can help. */
  async check(body: CheckBody, options: CallOptions = {}): Promise<CheckResult> {
    const deadline = Date.now() + (options.deadlineMs ?? this.options.deadlineMs);
    const key = body.idempotency_key ?? newKey();
    for (let round = 0; ; round++) {
      // A refused check reserved nothing: the next round may use a key of its own.
      const idempotency_key = round === 0 ? key : `${key}~${round}`;
      const answer = await this.call<CheckAllowed>(
        { method: 'POST', path: '/v1/check', body: { ...body, idempotency_key } },
        deadline,
        options.signal,
      );
      if (!(answer instanceof BudgetRefusedError)) {
        return answer;
      }
      const wait = answer.retryAfterSeconds;
      const waiting = options.waitForBudget ?? this.options.waitForBudget;
      if (!waiting || wait === undefined || Date.now() + wait * 1000 > deadline) {
        return { allowed: false, refusal: answer };
      }
      await sleep(wait * 1000, options.signal);
    }
  }

  estimate(body: EstimateBody, options: CallOptions = {}): Promise<EstimateResult> {
    return this.answer({ method: 'POST', path: '/v1/estimate', body }, options);
  }

  commit(body: CommitBody, options: CallOptions = {}): Promise<Settled> {
    return this.answer({ method: 'POST', path: '/v1/commit', body }, options);
  }

  refund(body: RefundBody, options: CallOptions = {}): Promise<Settled> {
    return this.answer({ method: 'POST', path: '/v1/refund', body }, options);
  }

  usage(subject: string, options: CallOptions = {}): Promise<SubjectUsage> {
    const path = `/v1/subjects/${encodeURIComponent(subject)}/usage`;
    return this.answer({ method: 'GET', path }, options);
  }

  private async answer<T>(request: ApiRequest, options: CallOptions): Promise<T> {
    const deadline = Date.now() + (options.deadlineMs ?? this.options.deadlineMs);
    const answer = await this.call<T>(request, deadline, options.signal);
    if (answer instanceof BudgetRefusedError) {
      throw answer;
    }
    return answer;
  }

  /**
   * One call with its retries (none for a request marked `retry: false`); a 429 is returned (a
   * refusal), every other failure thrown.
   */
  private async call<T>(
    request: ApiRequest,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<T | BudgetRefusedError> {
    const attempts = request.retry === false ? 1 : this.options.maxAttempts;
    let last: TokenBudgetError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new DeadlineExceededError(this.options.deadlineMs, last);
      }
      let retryAfterMs: number | undefined;
      try {
        const response = await this.attempt(
          request,
          Math.min(left, this.options.timeoutMs),
          signal,
        );
        if (response.ok && request.accept !== undefined) {
          return (await response.text()) as T;
        }
        const parsed = await readJson(response);
        if (response.ok) {
          return parsed as T;
        }
        const error = errorOf(response.status, parsed);
        if (error instanceof BudgetRefusedError) {
          return error;
        }
        if (response.status < 500) {
          throw error;
        }
        last = error;
        retryAfterMs = retryAfterOf(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof TokenBudgetError || signal?.aborted) {
          throw error;
        }
        last = new NetworkError(`${request.path}: ${describe(error)}`, error);
      }
      if (attempt + 1 >= attempts) {
        break;
      }
      const delay = retryAfterMs ?? this.backoffMs(attempt);
      if (Date.now() + delay >= deadline) {
        throw new DeadlineExceededError(this.options.deadlineMs, last);
      }
      await sleep(delay, signal);
    }
    throw last ?? new DeadlineExceededError(this.options.deadlineMs);
  }

  private async attempt(
    { method, path, body, accept }: ApiRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    return this.fetchImpl(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.config.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(accept === undefined ? {} : { accept }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
  }

  /** Full jitter: uniform in [0, min(max, base × 2^attempt)). */
  backoffMs(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** attempt);
    return Math.floor(this.random() * ceiling);
  }
}

/** A fresh idempotency key (crypto.randomUUID exists in Node 20+ and edge runtimes). */
export function newKey(): string {
  return globalThis.crypto.randomUUID();
}

async function readJson(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (text === '') {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** Retry-After in whole seconds (an HTTP date is honoured too). */
function retryAfterOf(header: string | null): number | undefined {
  if (header === null) {
    return undefined;
  }
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000;
  }
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
