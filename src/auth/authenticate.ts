/** Turns an `Authorization: Bearer <key>` value into a caller, or refuses with UNAUTHENTICATED. */
import { timingSafeEqual } from 'node:crypto';
import type { Executor } from '../db/types.js';
import type { EventBus } from '../realtime/pubsub.js';
import { unauthenticated } from '../schema/errors.js';
import type { Caller } from './caller.js';
import { digest, keyByHash, programIdsOf } from './keys.repository.js';

/** The secret of a well-formed header, or UNAUTHENTICATED. */
function secretOf(authorization: string | null | undefined): string {
  if (!authorization) throw unauthenticated('an API key is required: send "Authorization: Bearer <key>"');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <key>"');
  return match[1];
}

const sameDigest = (a: string, b: string) => timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

async function callerByDigest(db: Executor, hash: string): Promise<Caller> {
  const key = await keyByHash(db, hash);
  if (!key) throw unauthenticated('the API key is not known');
  if (key.revoked_at !== null) throw unauthenticated('the API key has been revoked');
  return { keyId: key.id, role: key.role, programIds: programIdsOf(key) };
}

/** Reads the key from the database every time (sockets' periodic recheck, /metrics). */
export async function authenticate(
  db: Executor,
  adminApiKey: string | null,
  authorization: string | null | undefined,
): Promise<Caller> {
  const hash = digest(secretOf(authorization));
  if (adminApiKey && sameDigest(hash, digest(adminApiKey))) return { keyId: null, role: 'ADMIN', programIds: null };
  return callerByDigest(db, hash);
}

/**
 * How long a stored key's caller is reused without reading the database. A revocation made on this
 * instance, or heard from another on the 'keyRevoked' channel (Redis), drops the key at once; this
 * bounds how long another instance's revocation can go unheard (Redis away and its resync not yet run).
 */
export const KEY_CACHE_MS = 5_000;
const KEY_CACHE_SIZE = 10_000;

/**
 * Authentication for every request: one database read per key per KEY_CACHE_MS instead of one per
 * request. Keys that do not authenticate are never cached, so a key created a moment ago works at once.
 */
export class Authenticator {
  private readonly adminDigest: string | null;
  private readonly cache = new Map<string, { caller: Caller; until: number }>();
  private readonly revocations: AsyncIterator<string>;

  constructor(
    private readonly db: Executor,
    adminApiKey: string | null,
    bus: EventBus,
    private readonly clock: () => number = Date.now,
  ) {
    this.adminDigest = adminApiKey ? digest(adminApiKey) : null;
    this.revocations = bus.subscribe('keyRevoked')[Symbol.asyncIterator]();
    void this.listen();
  }

  async authenticate(authorization: string | null | undefined): Promise<Caller> {
    const hash = digest(secretOf(authorization));
    if (this.adminDigest && sameDigest(hash, this.adminDigest)) return { keyId: null, role: 'ADMIN', programIds: null };
    const now = this.clock();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.caller;
    const caller = await callerByDigest(this.db, hash);
    if (this.cache.size >= KEY_CACHE_SIZE) this.cache.clear();
    this.cache.set(hash, { caller, until: now + KEY_CACHE_MS });
    return caller;
  }

  /** Called by revokeApiKey before it answers, so the key's next request on this instance is refused. */
  forget(keyId: string): void {
    for (const [hash, { caller }] of this.cache) if (caller.keyId === keyId) this.cache.delete(hash);
  }

  close(): void {
    void this.revocations.return?.();
  }

  private async listen(): Promise<void> {
    for (;;) {
      const next = await this.revocations.next();
      if (next.done) return;
      this.forget(next.value);
    }
  }
}
