/** What every resolver receives: the services, the caller, and the per-request loaders. */
import DataLoader from 'dataloader';
import type { Kysely } from 'kysely';
import type { Alerting } from './alerts/alerting.js';
import type { Authenticator } from './auth/authenticate.js';
import type { Caller } from './auth/caller.js';
import type { Config } from './config.js';
import { createBlockLoader } from './dashboards/dashboard.service.js';
import type { LiveFeed } from './dashboards/feed.js';
import type { OpenDatabase } from './db/database.js';
import type { Database } from './db/types.js';
import type { Recorder } from './write/index.js';
import { programsByIds, type Program } from './programs/programs.repository.js';
import { loadDimensions, type DimensionWithValues } from './programs/dimensions.repository.js';
import type { EventBus } from './realtime/pubsub.js';
import type { RateLimits } from './security/rate-limit.js';

export interface Services {
  config: Config;
  database: OpenDatabase;
  db: Kysely<Database>;
  pubsub: EventBus;
  recorder: Recorder;
  /** Live dashboard scopes shared by their subscribers. */
  feed: LiveFeed;
  /** Alert rules judged on records and on a timer; transitions stored, published, delivered. */
  alerts: Alerting;
  /** API keys to callers, with a short cache (see auth/authenticate.ts). */
  authenticator: Authenticator;
  /** Per key, and per address for requests without a valid key; shared through Redis when there is one. */
  rateLimits: RateLimits;
  now: () => number;
}

/** Made on first use: most requests (every recording mutation) need none of them. */
export function createLoaders(services: Services) {
  let program: DataLoader<string, Program | null> | undefined;
  let blocks: ReturnType<typeof createBlockLoader> | undefined;
  let dimensions: DataLoader<string, DimensionWithValues[]> | undefined;
  return {
    get program() {
      return (program ??= new DataLoader<string, Program | null>(async (ids) => {
        const found = new Map((await programsByIds(services.db, ids)).map((p) => [p.id, p]));
        return ids.map((id) => found.get(id) ?? null);
      }));
    },
    /** A program's dimensions with the values seen, in declaration order. */
    get dimensions() {
      return (dimensions ??= new DataLoader<string, DimensionWithValues[]>((ids) => loadDimensions(services.db, ids)));
    },
    get blocks() {
      return (blocks ??= createBlockLoader(services.db, services.now));
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

export interface Context {
  services: Services;
  caller: Caller;
  loaders: Loaders;
}
