import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, type Repository } from 'typeorm';
import { ApiClient, type ApiClientRole } from './entities/api-client.entity.js';
import { ApiClientExistsError } from '#kernel';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Callers' API keys, stored only as the lowercase hex SHA-256 of the key. Statements are single
 * and transaction-free (no `save()`), because embedded PGlite shares one session among all callers.
 */
@Injectable()
export class ApiClientRepository {
  private readonly clients: Repository<ApiClient>;

  constructor(dataSource: DataSource) {
    this.clients = dataSource.getRepository(ApiClient);
  }

  /**
   * The unrevoked client with this key hash — its current key, or a rotated-out one still in its
   * grace period (api_key_grace) — or null (also for a malformed hash).
   */
  async findActiveByKeyHash(sha256Hex: string): Promise<ApiClient | null> {
    if (!SHA256_HEX.test(sha256Hex)) {
      return null;
    }
    const current = await this.clients.findOneBy({ keySha256: sha256Hex, revokedAt: IsNull() });
    if (current) {
      return current;
    }
    const [graced] = await this.clients.query(
      `SELECT c.name FROM api_key_grace g JOIN api_clients c ON c.name = g.client
       WHERE g.key_sha256 = $1 AND g.expires_at > now() AND c.revoked_at IS NULL`,
      [sha256Hex],
    );
    return graced ? this.clients.findOneBy({ name: (graced as { name: string }).name }) : null;
  }

  /**
   * Every unrevoked client (the guard's background refresh of key verdicts), once per key: its
   * current key, and any rotated-out key still in its grace period (same client, that key hash).
   */
  async listActive(): Promise<ApiClient[]> {
    const current = await this.clients.findBy({ revokedAt: IsNull() });
    const graced: { key_sha256: string; client: string }[] = await this.clients.query(
      `SELECT key_sha256, client FROM api_key_grace WHERE expires_at > now()`,
    );
    const byName = new Map(current.map((client) => [client.name, client]));
    const previous = graced.flatMap(({ key_sha256, client }) => {
      const row = byName.get(client);
      return row ? [{ ...row, keySha256: key_sha256 }] : [];
    });
    return [...current, ...previous];
  }

  /** Registers a caller; 409 api_client_exists when the name or the key is taken. */
  async create(name: string, sha256Hex: string): Promise<ApiClient> {
    if (!SHA256_HEX.test(sha256Hex)) {
      throw new RangeError('An API key hash must be 64 lowercase hex digits (SHA-256)');
    }
    try {
      await this.clients.insert({ name, keySha256: sha256Hex });
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') {
        throw new ApiClientExistsError(name);
      }
      throw error;
    }
    return this.clients.findOneByOrFail({ name });
  }

  /**
   * Ensures the client `name` exists with this key and is not revoked (BOOTSTRAP_API_KEY: the
   * configured key must work after every start, even if it was revoked or replaced meanwhile).
   * 409 api_client_exists when another client already holds this key.
   */
  async upsertKey(
    name: string,
    sha256Hex: string,
    role: ApiClientRole = 'caller',
  ): Promise<ApiClient> {
    if (!SHA256_HEX.test(sha256Hex)) {
      throw new RangeError('An API key hash must be 64 lowercase hex digits (SHA-256)');
    }
    try {
      await this.clients.query(
        `INSERT INTO api_clients (name, key_sha256, role) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE
           SET key_sha256 = EXCLUDED.key_sha256, revoked_at = NULL, role = EXCLUDED.role
         WHERE api_clients.key_sha256 <> EXCLUDED.key_sha256 OR api_clients.revoked_at IS NOT NULL
           OR api_clients.role <> EXCLUDED.role`,
        [name, sha256Hex, role],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') {
        throw new ApiClientExistsError(name);
      }
      throw error;
    }
    return this.clients.findOneByOrFail({ name });
  }

  /** Every client, revoked ones included, by name. */
  list(): Promise<ApiClient[]> {
    return this.clients.find({ order: { name: 'ASC' } });
  }

  /**
   * Revokes the client's key (at once; revoking twice keeps the first time). Returns the client,
   * or null when no client has this name.
   */
  async revoke(name: string): Promise<ApiClient | null> {
    await this.clients.update({ name, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    return this.clients.findOneBy({ name });
  }
}
