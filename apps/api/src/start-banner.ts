import type { KeyOrigin } from './auth/bootstrap-key.service.js';

/**
 * The start banner's API key lines. A key the service has just generated (the first embedded
 * start) is shown in clear: the user has no other way to learn it. Any other key — configured
 * (BOOTSTRAP_API_KEY), or the embedded one kept under DATA_DIR from an earlier start — is never
 * printed in clear (SPEC §6): logs are read by more people than the key's owner; a masked prefix
 * is enough to tell which key is in use.
 */
export function apiKeyLines(
  key: string | null,
  origin: KeyOrigin,
  url: string,
  keptIn: string | null = null,
): string[] {
  if (key === null) {
    return ['  API keys: create one with `npm run cli -- keys create <name>`'];
  }
  if (origin === 'configured') {
    return [`  API key:  ${maskKey(key)} (from BOOTSTRAP_API_KEY)`];
  }
  if (origin === 'kept') {
    return [`  API key:  ${maskKey(key)} (kept in ${keptIn ?? 'DATA_DIR'})`];
  }
  return [
    `  API key:  ${key}${keptIn === null ? '' : ` (new; kept in ${keptIn})`}`,
    `  try:      curl -H "Authorization: Bearer ${key}" ${url}/v1/subjects/user_123/usage`,
  ];
}

/** The first few characters and a mask: never more than a quarter of the key, at most 6. */
export function maskKey(key: string): string {
  const shown = Math.min(6, Math.floor(key.length / 4));
  return `${key.slice(0, shown)}${'*'.repeat(8)}`;
}
