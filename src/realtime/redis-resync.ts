/**
 * After a Redis outage this instance may have missed other instances' notices. Rather than
 * leave its live subscribers silently stale, it replays, to itself only, what the database says
 * changed: every program as changed over all time (the live feed recomputes each scope once and
 * pushes a fresh snapshot; the alert engine judges again), the alerts that moved since the outage
 * began, and the keys revoked since.
 */
import { alertsChangedSince } from '../alerts/alerts.repository.js';
import { keysRevokedSince } from '../auth/keys.repository.js';
import type { Db } from '../db/types.js';
import type { Logger } from '../metrics/logger.js';
import { listPrograms } from '../programs/programs.repository.js';
import type { EventBus } from './pubsub.js';

/** Instances' clocks differ a little: replay from a little before the outage began. */
const CLOCK_SLACK_MS = 5_000;

/** Everything a subscriber could have missed, as a notice that touches every range. */
const ALL_TIME = { from: Number.MIN_SAFE_INTEGER, to: Number.MAX_SAFE_INTEGER };

export async function resynchronise(db: Db, bus: EventBus, since: number): Promise<void> {
  const from = since - CLOCK_SLACK_MS;
  const [programs, alerts, revoked] = await Promise.all([
    listPrograms(db),
    alertsChangedSince(db, from),
    keysRevokedSince(db, from),
  ]);
  for (const keyId of revoked) bus.publishLocal('keyRevoked', keyId);
  for (const program of programs) bus.publishLocal('changes', { programId: program.id, ...ALL_TIME });
  for (const alert of alerts) bus.publishLocal('alertChanged', alert);
}

/** Resynchronises on every signal of the bus (none without Redis); returns the unsubscribe. */
export function resyncOnReconnect(db: Db, bus: EventBus, log: Logger): () => void {
  return bus.onResync((since, reason) => {
    // On first connecting there is usually nobody to resynchronise: not worth an info line.
    const level = reason === 'connected' ? 'debug' : 'info';
    log[level](
      { since: new Date(since).toISOString(), reason },
      'resynchronising live subscribers with the database (Redis notices may have been missed)',
    );
    resynchronise(db, bus, since).catch((error) =>
      log.error({ err: error }, 'resynchronisation after a Redis outage failed'),
    );
  });
}
