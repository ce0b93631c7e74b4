import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClientRepository } from '#ledger';
import { ApiClientExistsError } from '#kernel';
import { testEnv } from '../support/test-env.js';
import { openDataSource } from './ledger.helpers.js';
import { unique } from '../support/polling.js';

let dataSource: DataSource;
let clients: ApiClientRepository;

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

beforeAll(async () => {
  dataSource = await openDataSource(testEnv().databaseUrl);
  clients = new ApiClientRepository(dataSource);
});

afterAll(async () => {
  await dataSource.destroy();
});

describe('ApiClientRepository', () => {
  it('creates, finds by key hash, lists and revokes a caller', async () => {
    const name = unique('client');
    const key = unique('key');
    const created = await clients.create(name, hash(key));
    expect(created).toMatchObject({ name, keySha256: hash(key), revokedAt: null });
    expect(created.createdAt).toBeInstanceOf(Date);

    expect((await clients.findActiveByKeyHash(hash(key)))?.name).toBe(name);
    expect(await clients.findActiveByKeyHash(hash(unique('other')))).toBeNull();
    expect(await clients.findActiveByKeyHash('NOT-A-HASH')).toBeNull();
    expect((await clients.list()).map((client) => client.name)).toContain(name);

    const revoked = await clients.revoke(name);
    expect(revoked?.revokedAt).toBeInstanceOf(Date);
    expect(await clients.findActiveByKeyHash(hash(key))).toBeNull();
    // Revoking again keeps the first time.
    expect((await clients.revoke(name))?.revokedAt).toEqual(revoked?.revokedAt);
    expect(await clients.revoke(unique('nobody'))).toBeNull();
  });

  it('refuses a taken name or key with api_client_exists (409), and a malformed hash', async () => {
    const name = unique('client');
    const key = unique('key');
    await clients.create(name, hash(key));
    await expect(clients.create(name, hash(unique('key')))).rejects.toBeInstanceOf(
      ApiClientExistsError,
    );
    await expect(clients.create(unique('client'), hash(key))).rejects.toMatchObject({
      code: 'api_client_exists',
      status: 409,
    });
    await expect(clients.create(unique('client'), 'ABC')).rejects.toThrow(RangeError);
  });

  it('upsertKey ensures a caller with that key works, even after a revocation', async () => {
    const name = unique('bootstrap');
    const first = hash(unique('key'));
    await clients.upsertKey(name, first);
    await clients.upsertKey(name, first); // idempotent
    expect((await clients.findActiveByKeyHash(first))?.name).toBe(name);

    await clients.revoke(name);
    await clients.upsertKey(name, first);
    expect((await clients.findActiveByKeyHash(first))?.name).toBe(name);

    const second = hash(unique('key'));
    await clients.upsertKey(name, second);
    expect(await clients.findActiveByKeyHash(first)).toBeNull();
    expect((await clients.findActiveByKeyHash(second))?.name).toBe(name);
  });
});
