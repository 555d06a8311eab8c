/** A newcomer who set no key must still get in: the first start with no keys creates one admin key. */
import type { Config } from '../config.js';
import type { Executor } from '../db/types.js';
import { countKeys, createKey } from './keys.repository.js';

/** Returns the new secret, or null when keys exist or ADMIN_API_KEY is set. */
export async function ensureAdminKey(db: Executor, config: Config, now: number): Promise<string | null> {
  if (config.adminApiKey || (await countKeys(db)) > 0) return null;
  const { secret } = await createKey(db, { name: 'bootstrap admin', role: 'ADMIN', programIds: null }, now);
  return secret;
}
