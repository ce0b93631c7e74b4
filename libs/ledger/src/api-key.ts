import { createHash, randomBytes } from 'node:crypto';

/** Keys are never stored in clear: only this lowercase-hex SHA-256. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return `tb_${randomBytes(24).toString('base64url')}`;
}
