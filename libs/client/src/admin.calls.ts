import type {
  AdminAlert,
  AdminKey,
  AdminModel,
  AdminOverview,
  AdminSubject,
  AdminTier,
  AdminTierDetail,
  AdminTierModelLimit,
  AlertQuery,
  IssuedKey,
  KeyRole,
  ModelInput,
  SpendQuery,
  SpendReport,
  SubjectInput,
  SubjectListQuery,
  SubjectPage,
  TierInput,
  TierModelLimitInput,
  TopSubjects,
  TopSubjectsQuery,
} from './admin.types.js';
import type { ApiRequest } from './client.types.js';

/** Per-call options of an admin call (a subset of the client's CallOptions). */
export interface AdminCallOptions {
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** How the client sends one request: its timeouts, retries and typed errors. */
export type Send = <T>(request: ApiRequest, options: AdminCallOptions) => Promise<T>;

type Query = Record<string, string | number | undefined>;

const segment = encodeURIComponent;

function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) {
      params.set(name, String(value));
    }
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/**
 * The admin API (needs an admin key; a caller key gets a ForbiddenError). Reads, PUTs and
 * DELETEs are idempotent and retried like every call; creating and rotating a key are sent once.
 * A missing row is a NotFoundError, a tier still in use a TierInUseError.
 */
export class AdminCalls {
  constructor(private readonly send: Send) {}

  async listTiers(options: AdminCallOptions = {}): Promise<AdminTier[]> {
    const path = '/v1/admin/tiers';
    return (await this.send<{ tiers: AdminTier[] }>({ method: 'GET', path }, options)).tiers;
  }

  getTier(name: string, options: AdminCallOptions = {}): Promise<AdminTierDetail> {
    return this.send({ method: 'GET', path: `/v1/admin/tiers/${segment(name)}` }, options);
  }

  /** Creates or replaces the whole tier (an absent limit is unlimited). */
  putTier(name: string, tier: TierInput, options: AdminCallOptions = {}): Promise<AdminTierDetail> {
    const path = `/v1/admin/tiers/${segment(name)}`;
    return this.send({ method: 'PUT', path, body: tier }, options);
  }

  /** A TierInUseError (409) while a subject still has it. */
  deleteTier(name: string, options: AdminCallOptions = {}): Promise<void> {
    return this.send({ method: 'DELETE', path: `/v1/admin/tiers/${segment(name)}` }, options);
  }

  getTierModelLimit(
    tier: string,
    model: string,
    options: AdminCallOptions = {},
  ): Promise<AdminTierModelLimit> {
    return this.send({ method: 'GET', path: modelLimitPath(tier, model) }, options);
  }

  putTierModelLimit(
    tier: string,
    model: string,
    limit: TierModelLimitInput,
    options: AdminCallOptions = {},
  ): Promise<AdminTierModelLimit> {
    return this.send({ method: 'PUT', path: modelLimitPath(tier, model), body: limit }, options);
  }

  deleteTierModelLimit(tier: string, model: string, options: AdminCallOptions = {}): Promise<void> {
    return this.send({ method: 'DELETE', path: modelLimitPath(tier, model) }, options);
  }

  /** One page, by id; pass next_cursor as `cursor` for the next. */
  listSubjects(query: SubjectListQuery = {}, options: AdminCallOptions = {}): Promise<SubjectPage> {
    return this.send(
      { method: 'GET', path: withQuery('/v1/admin/subjects', { ...query }) },
      options,
    );
  }

  getSubject(id: string, options: AdminCallOptions = {}): Promise<AdminSubject> {
    return this.send({ method: 'GET', path: `/v1/admin/subjects/${segment(id)}` }, options);
  }

  /** A parent that would make a cycle or a scope deeper than 4 is an InvalidRequestError. */
  putSubject(
    id: string,
    subject: SubjectInput,
    options: AdminCallOptions = {},
  ): Promise<AdminSubject> {
    const path = `/v1/admin/subjects/${segment(id)}`;
    return this.send({ method: 'PUT', path, body: subject }, options);
  }

  /** The subject falls back to the default tier. */
  deleteSubject(id: string, options: AdminCallOptions = {}): Promise<void> {
    return this.send({ method: 'DELETE', path: `/v1/admin/subjects/${segment(id)}` }, options);
  }

  async listModels(options: AdminCallOptions = {}): Promise<AdminModel[]> {
    const path = '/v1/admin/models';
    return (await this.send<{ models: AdminModel[] }>({ method: 'GET', path }, options)).models;
  }

  getModel(name: string, options: AdminCallOptions = {}): Promise<AdminModel> {
    return this.send({ method: 'GET', path: `/v1/admin/models/${segment(name)}` }, options);
  }

  putModel(name: string, model: ModelInput, options: AdminCallOptions = {}): Promise<AdminModel> {
    const path = `/v1/admin/models/${segment(name)}`;
    return this.send({ method: 'PUT', path, body: model }, options);
  }

  deleteModel(name: string, options: AdminCallOptions = {}): Promise<void> {
    return this.send({ method: 'DELETE', path: `/v1/admin/models/${segment(name)}` }, options);
  }

  /** A new key, shown once in the answer; sent once (a retry could make a second key). */
  createKey(
    name: string,
    role: KeyRole = 'caller',
    options: AdminCallOptions = {},
  ): Promise<IssuedKey> {
    const body = { name, role };
    return this.send({ method: 'POST', path: '/v1/admin/keys', body, retry: false }, options);
  }

  async listKeys(options: AdminCallOptions = {}): Promise<AdminKey[]> {
    const path = '/v1/admin/keys';
    return (await this.send<{ keys: AdminKey[] }>({ method: 'GET', path }, options)).keys;
  }

  /** A new key for `name`; the old one stops now or after graceSeconds. Sent once. */
  rotateKey(name: string, graceSeconds = 0, options: AdminCallOptions = {}): Promise<IssuedKey> {
    const path = `/v1/admin/keys/${segment(name)}/rotate`;
    const body = { grace_seconds: graceSeconds };
    return this.send({ method: 'POST', path, body, retry: false }, options);
  }

  /** Revokes the key (again: answers when it was first revoked). */
  revokeKey(name: string, options: AdminCallOptions = {}): Promise<AdminKey> {
    return this.send({ method: 'DELETE', path: `/v1/admin/keys/${segment(name)}` }, options);
  }

  spend(query: SpendQuery = {}, options: AdminCallOptions = {}): Promise<SpendReport> {
    return this.send({ method: 'GET', path: withQuery('/v1/admin/spend', { ...query }) }, options);
  }

  /** The same rows as spend(), as the service's CSV (header line, CRLF line ends). */
  spendCsv(query: SpendQuery = {}, options: AdminCallOptions = {}): Promise<string> {
    const path = withQuery('/v1/admin/spend', { ...query });
    return this.send({ method: 'GET', path, accept: 'text/csv' }, options);
  }

  /** Budget alerts raised since `since` (default: 7 days ago), newest first. */
  async alerts(query: AlertQuery = {}, options: AdminCallOptions = {}): Promise<AdminAlert[]> {
    const path = withQuery('/v1/admin/alerts', { ...query });
    return (await this.send<{ alerts: AdminAlert[] }>({ method: 'GET', path }, options)).alerts;
  }

  /** Refusals of the last hour by dimension (the answering instance) and its modes. */
  overview(options: AdminCallOptions = {}): Promise<AdminOverview> {
    return this.send({ method: 'GET', path: '/v1/admin/overview' }, options);
  }

  topSubjects(query: TopSubjectsQuery = {}, options: AdminCallOptions = {}): Promise<TopSubjects> {
    const path = withQuery('/v1/admin/top-subjects', { ...query });
    return this.send({ method: 'GET', path }, options);
  }
}

function modelLimitPath(tier: string, model: string): string {
  return `/v1/admin/tiers/${segment(tier)}/models/${segment(model)}`;
}
