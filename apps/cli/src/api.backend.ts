import type { SpendReport } from '../../api/src/admin/spend.service.js';
import type { AdminBackend, AdminRow, SpendOptions } from './admin.backend.js';

/** One attempt per command: a write is never sent twice (a retried create would make two keys). */
const TIMEOUT_MS = 10_000;

/** The admin API of a running service (TOKEN_BUDGET_URL), with an admin key. */
export class ApiBackend implements AdminBackend {
  private readonly base: string;

  constructor(
    url: string,
    private readonly key: string,
  ) {
    this.base = url.replace(/\/+$/, '');
  }

  get target(): string {
    return this.base;
  }

  async listKeys(): Promise<AdminRow[]> {
    return (await this.call<{ keys: AdminRow[] }>('GET', '/v1/admin/keys')).keys;
  }

  createKey(name: string, role: string): Promise<AdminRow> {
    return this.call('POST', '/v1/admin/keys', { name, role });
  }

  rotateKey(name: string, graceSeconds: number): Promise<AdminRow> {
    return this.call('POST', `/v1/admin/keys/${segment(name)}/rotate`, {
      grace_seconds: graceSeconds,
    });
  }

  revokeKey(name: string): Promise<AdminRow> {
    return this.call('DELETE', `/v1/admin/keys/${segment(name)}`);
  }

  async listTiers(): Promise<AdminRow[]> {
    return (await this.call<{ tiers: AdminRow[] }>('GET', '/v1/admin/tiers')).tiers;
  }

  putTier(name: string, tier: AdminRow): Promise<AdminRow> {
    return this.call('PUT', `/v1/admin/tiers/${segment(name)}`, tier);
  }

  putSubject(id: string, subject: AdminRow): Promise<AdminRow> {
    return this.call('PUT', `/v1/admin/subjects/${segment(id)}`, subject);
  }

  spend(options: SpendOptions): Promise<SpendReport> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(options)) {
      if (value !== undefined) {
        query.set(name, String(value));
      }
    }
    return this.call('GET', `/v1/admin/spend?${query.toString()}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new Error(
        `cannot reach ${this.base} (TOKEN_BUDGET_URL): ${cause ?? (error as Error).message}`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = {};
    }
    if (!response.ok) {
      const message = (parsed as { message?: unknown }).message;
      throw new Error(
        typeof message === 'string' ? message : `${method} ${path} answered ${response.status}`,
      );
    }
    return parsed as T;
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}
