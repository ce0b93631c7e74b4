/**
 * The start banner's API key lines. A key the service generated (embedded defaults) is shown in
 * clear: the user has no other way to learn it. A key the operator configured
 * (BOOTSTRAP_API_KEY) is never printed in clear (SPEC §6): logs are read by more people than
 * the key's owner; a masked prefix is enough to tell which key is in use.
 */
export function apiKeyLines(key: string | null, generated: boolean, url: string): string[] {
  if (key === null) {
    return ['  API keys: create one with `npm run cli -- keys create <name>`'];
  }
  if (!generated) {
    return [`  API key:  ${maskKey(key)} (from BOOTSTRAP_API_KEY)`];
  }
  return [
    `  API key:  ${key}`,
    `  try:      curl -H "Authorization: Bearer ${key}" ${url}/v1/subjects/user_123/usage`,
  ];
}

/** The first few characters and a mask: never more than a quarter of the key, at most 6. */
export function maskKey(key: string): string {
  const shown = Math.min(6, Math.floor(key.length / 4));
  return `${key.slice(0, shown)}${'*'.repeat(8)}`;
}
