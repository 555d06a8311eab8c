/** API keys: the secret is shown once and only its SHA-256 digest is stored. */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ApiKeyTable, Executor, Role } from '../db/types.js';

export type ApiKey = ApiKeyTable;

// Secrets carry 256 random bits, so a plain digest is enough: there is nothing to brute-force.
export const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(digest(a), 'hex'), Buffer.from(digest(b), 'hex'));
}

export async function createKey(
  db: Executor,
  input: { name: string; role: Role; programIds: readonly string[] | null },
  now: number,
): Promise<{ secret: string; key: ApiKey }> {
  const secret = `kpi_${randomBytes(32).toString('base64url')}`;
  const key: ApiKey = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    program_ids: input.programIds ? JSON.stringify(input.programIds) : null,
    key_hash: digest(secret),
    created_at: now,
    revoked_at: null,
  };
  await db.insertInto('api_keys').values(key).execute();
  return { secret, key };
}

export function keyByHash(db: Executor, hash: string): Promise<ApiKey | undefined> {
  return db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
}

export function keyById(db: Executor, id: string): Promise<ApiKey | undefined> {
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listKeys(db: Executor): Promise<ApiKey[]> {
  return db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countKeys(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function revokeKey(db: Executor, id: string, now: number): Promise<ApiKey | undefined> {
  await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}

export const programIdsOf = (key: ApiKey): string[] | null => (key.program_ids ? JSON.parse(key.program_ids) : null);

/** Ids of keys revoked at or after `since` (resynchronising live sockets after an outage). */
export async function keysRevokedSince(db: Executor, since: number): Promise<string[]> {
  const rows = await db.selectFrom('api_keys').select('id').where('revoked_at', '>=', since).execute();
  return rows.map((r) => r.id);
}
