/** Turns an `Authorization: Bearer <key>` value into a caller, or refuses with UNAUTHENTICATED. */
import type { Executor } from '../db/types.js';
import { unauthenticated } from '../schema/errors.js';
import type { Caller } from './caller.js';
import { digest, keyByHash, programIdsOf, sameSecret } from './keys.repository.js';

export async function authenticate(
  db: Executor,
  adminApiKey: string | null,
  authorization: string | null | undefined,
): Promise<Caller> {
  if (!authorization) throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <key>"');
  const secret = match[1];
  if (adminApiKey && sameSecret(secret, adminApiKey)) return { keyId: null, role: 'ADMIN', programIds: null };
  const key = await keyByHash(db, digest(secret));
  if (!key) throw unauthenticated('the API key is not known');
  if (key.revoked_at !== null) throw unauthenticated('the API key has been revoked');
  return { keyId: key.id, role: key.role, programIds: programIdsOf(key) };
}
