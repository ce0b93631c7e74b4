import {
  type AdminCalls,
  type KeyRole,
  type SpendQuery,
  type SubjectInput,
  type TierInput,
  TokenBudgetClient,
  TokenBudgetError,
} from '#client';
import type { AdminBackend } from './admin.backend.js';

/**
 * A command's whole time, retries included; the client retries reads, PUTs and DELETEs, and sends
 * key creation and rotation once.
 */
const DEADLINE_MS = 10_000;

/** The admin API of a running service (TOKEN_BUDGET_URL), with an admin key, through #client. */
export class ApiBackend implements AdminBackend {
  readonly target: string;
  private readonly admin: AdminCalls;

  constructor(url: string, key: string) {
    const client = new TokenBudgetClient({ baseUrl: url, apiKey: key, deadlineMs: DEADLINE_MS });
    this.target = url.replace(/\/+$/, '');
    this.admin = client.admin;
  }

  listKeys() {
    return this.reached(this.admin.listKeys());
  }

  createKey(name: string, role: string) {
    return this.reached(this.admin.createKey(name, role as KeyRole));
  }

  rotateKey(name: string, graceSeconds: number) {
    return this.reached(this.admin.rotateKey(name, graceSeconds));
  }

  revokeKey(name: string) {
    return this.reached(this.admin.revokeKey(name));
  }

  listTiers() {
    return this.reached(this.admin.listTiers());
  }

  putTier(name: string, tier: TierInput) {
    return this.reached(this.admin.putTier(name, tier));
  }

  putSubject(id: string, subject: SubjectInput) {
    return this.reached(this.admin.putSubject(id, subject));
  }

  spend(options: SpendQuery) {
    return this.reached(this.admin.spend(options));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The service's own sentence for its refusals; for no answer at all, where it went. */
  private async reached<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof TokenBudgetError && error.status === 0) {
        throw new Error(`cannot reach ${this.target} (TOKEN_BUDGET_URL): ${innermost(error)}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** The first failure's own words (`connect ECONNREFUSED …`), beneath the client's wrappers. */
function innermost(error: Error): string {
  let deepest = error;
  while (deepest.cause instanceof Error) {
    deepest = deepest.cause;
  }
  return deepest.message;
}
