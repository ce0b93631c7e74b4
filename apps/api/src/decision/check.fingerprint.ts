import { createHash } from 'node:crypto';
import type { CheckRequestBody } from './decision.contract.js';

/**
 * What makes a retried check "the same check" for its idempotency key (SPEC §4): a digest of its
 * body without the key, with object keys in a fixed order so a retry that orders them
 * differently is still the same body.
 */
export function checkFingerprint(dto: CheckRequestBody): string {
  return createHash('sha256')
    .update(canonicalJson({ ...dto, idempotency_key: undefined }))
    .digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
