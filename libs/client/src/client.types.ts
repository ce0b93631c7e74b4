/** The /v1 bodies as the service documents them (SPEC §4); money is a six-decimal string. */

/** A Chat Completions or Responses `usage` object as it came, or our own fields. */
export interface UsageBody {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  input_tokens?: number;
  output_tokens?: number;
  input_tokens_details?: { cached_tokens?: number | null } | null;
  [other: string]: unknown;
}

export interface CheckBody {
  subject: string;
  model?: string;
  /** The upstream body exactly as it will be sent (Chat Completions or Responses). */
  request?: Record<string, unknown>;
  messages?: unknown[];
  tools?: unknown[];
  prompt?: string;
  prompt_tokens?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  n?: number;
  min_max_tokens?: number;
  idempotency_key?: string;
  ttl_seconds?: number;
}

export type EstimateBody = Omit<CheckBody, 'min_max_tokens' | 'idempotency_key' | 'ttl_seconds'>;

export interface EstimateFigures {
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: string;
}

export interface CheckAllowed {
  allowed: true;
  reservation_id: string;
  subject: string;
  tier: string;
  model: string;
  requested_model: string;
  estimate: EstimateFigures;
  /** Cap the inference here, per choice. */
  granted_max_tokens: number;
  expires_at: string;
  limits: Record<string, unknown>;
}

export interface EstimateResult {
  subject: string;
  tier: string;
  model: string;
  requested_model: string;
  estimate: EstimateFigures;
}

export interface CommitBody {
  reservation_id: string;
  usage?: UsageBody;
  /** The generated text, when the upstream reported no usage: the service counts it. */
  completion?: string;
}

export interface RefundBody extends CommitBody {
  reason?: string;
}

export interface Settled {
  reservation_id: string;
  status: 'committed' | 'refunded';
  usage: { prompt_tokens: number; completion_tokens: number; cached_tokens: number };
  cost_usd: string;
  limits: Record<string, unknown>;
}

export interface SubjectUsage {
  subject: string;
  tier: string;
  limits: Record<string, unknown>;
  today: {
    date: string;
    cost_usd: string;
    requests: number;
    prompt_tokens: number;
    completion_tokens: number;
  };
  in_flight: {
    reservation_id: string;
    model: string;
    expires_at: string;
    estimate: EstimateFigures;
  }[];
  [other: string]: unknown;
}

/** One HTTP request of a call, as the client sends it. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** From the service's root, query included. */
  path: string;
  /** Sent as JSON; none for GET and DELETE. */
  body?: unknown;
  /** false: one attempt only, for a write that must never be sent twice (a new key). */
  retry?: boolean;
  /** A media type other than JSON (text/csv): the answer's text is returned as it came. */
  accept?: string;
}
