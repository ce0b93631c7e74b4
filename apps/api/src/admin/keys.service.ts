import { ApiClientExistsError, ConflictError } from '#kernel';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { generateApiKey, hashApiKey } from '#ledger';
import type { Caller } from '../auth/caller.js';
import { runAudited } from './admin.audit.js';
import type { CreateKeyDto } from './keys.dto.js';
import { notFound } from './admin.rows.js';

/** What the API shows of a key: never the key, nor its hash. */
const COLUMNS = `name, role, created_at, revoked_at,
  (SELECT max(g.expires_at) FROM api_key_grace g
   WHERE g.client = c.name AND g.expires_at > now()) AS previous_key_expires_at`;
const ROW = `to_jsonb(c.*) - 'key_sha256'`;

/** API keys (SPEC §5 api_clients): only SHA-256 hashes are stored; a key is shown once. */
@Injectable()
export class KeysService {
  constructor(private readonly db: DataSource) {}

  list(): Promise<Record<string, unknown>[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM api_clients c ORDER BY name`);
  }

  async create(caller: Caller, dto: CreateKeyDto): Promise<Record<string, unknown>> {
    const key = generateApiKey();
    const result = await runAudited(this.db, caller, {
      action: 'key.create',
      target: dto.name,
      before: `SELECT ${ROW} AS row FROM api_clients c WHERE name = $3`,
      change: `INSERT INTO api_clients AS c (name, key_sha256, role) VALUES ($3, $4, $5)
               RETURNING ${ROW} AS row`,
      params: [hashApiKey(key), dto.role ?? 'caller'],
    }).catch((error: unknown) => {
      if (error instanceof ConflictError) {
        throw new ApiClientExistsError(dto.name);
      }
      throw error;
    });
    return { ...(result.after as Record<string, unknown>), key };
  }

  /** A new key for `name`; the old one stops at once or after `graceSeconds`. */
  async rotate(
    caller: Caller,
    name: string,
    graceSeconds: number,
  ): Promise<Record<string, unknown>> {
    const key = generateApiKey();
    const result = await runAudited(this.db, caller, {
      action: 'key.rotate',
      target: name,
      before: `SELECT ${ROW} AS row, c.key_sha256 FROM api_clients c
               WHERE name = $3 AND revoked_at IS NULL`,
      also: `grace AS (
               INSERT INTO api_key_grace (key_sha256, client, expires_at)
               SELECT key_sha256, $3, now() + make_interval(secs => $5::int) FROM before
               WHERE $5::int > 0
             )`,
      change: `UPDATE api_clients c SET key_sha256 = $4 WHERE name = $3 AND revoked_at IS NULL
               RETURNING ${ROW} AS row`,
      params: [hashApiKey(key), graceSeconds],
    });
    if (!result.changed) {
      throw notFound('unrevoked key', name);
    }
    const graceUntil =
      graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000).toISOString() : null;
    return {
      ...(result.after as Record<string, unknown>),
      key,
      previous_key_expires_at: graceUntil,
    };
  }

  /** Revokes at once (with any rotated-out key still in its grace period). */
  async revoke(caller: Caller, name: string): Promise<Record<string, unknown>> {
    const result = await runAudited(this.db, caller, {
      action: 'key.revoke',
      target: name,
      before: `SELECT ${ROW} AS row FROM api_clients c WHERE name = $3`,
      change: `UPDATE api_clients c SET revoked_at = now() WHERE name = $3 AND revoked_at IS NULL
               RETURNING ${ROW} AS row`,
    });
    if (result.changed) {
      return result.after as Record<string, unknown>;
    }
    if (result.before === null) {
      throw notFound('key', name);
    }
    return result.before as Record<string, unknown>; // Already revoked: the first time stays.
  }
}
