/**
 * The two Redis connections of one instance (Redis pub/sub needs a connection of its own to
 * listen on), and what the rest of the service needs to know about them: whether they are up,
 * and when notices from other instances may have been missed.
 *
 * Publishing never waits for Redis and never fails a write: a publish while Redis is away is
 * refused at once by ioredis (no offline queue on that connection), logged, and made good later
 * by a resync message, so every instance recomputes what its live subscribers see.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '../metrics/logger.js';

export interface RedisLink {
  /** For the event target: publish and subscribe calls whose failures are logged, never thrown. */
  publishClient: Redis;
  subscribeClient: Redis;
  /** Both connections are up: notices travel between instances. */
  ready(): boolean;
  /**
   * Calls `listener(since, reason)` once the link is whole again after notices may have been
   * missed since `since` (wall-clock ms): this instance's subscribe connection came up for the
   * first time ('connected') or back ('reconnected'), or another instance reports that its
   * publishes failed ('peer').
   */
  onResync(listener: ResyncListener): () => void;
  close(): Promise<void>;
}

export type ResyncReason = 'connected' | 'reconnected' | 'peer';
export type ResyncListener = (since: number, reason: ResyncReason) => void;

export interface RedisLinkOptions {
  url: string;
  /** Channel prefix; the resync channel is `${prefix}resync`. */
  prefix: string;
  /** Tells this instance's own resync messages from the others'. */
  origin: string;
  log: Logger;
}

/** How long a publish may wait for Redis' answer before it counts as failed. */
const PUBLISH_TIMEOUT_MS = 2_000;

export function connectRedis({ url, prefix, origin, log }: RedisLinkOptions): RedisLink {
  const { publisher, subscriber } = openConnections(url, prefix);
  const resyncChannel = `${prefix}resync`;
  const listeners = new Set<ResyncListener>();
  const state = { closing: false };

  const resync = (since: number, reason: ResyncReason) => {
    for (const listener of listeners) {
      try {
        listener(since, reason);
      } catch (error) {
        log.error({ err: error }, 'resynchronisation after a Redis outage failed');
      }
    }
  };
  logOutages(publisher, 'publish', log, state);
  logOutages(subscriber, 'subscribe', log, state);
  resyncWhenMissed(subscriber, resyncChannel, origin, resync, state);
  const publish = publishOrAskResync(publisher, resyncChannel, origin, log);

  // The event target only calls these: failures are logged above or retried by ioredis, never thrown.
  const publishClient = { publish } as unknown as Redis;
  const subscribeClient = {
    on: (event: string, listener: (...args: unknown[]) => void) => subscriber.on(event, listener),
    subscribe: (...channels: string[]) => subscriber.subscribe(...channels).catch(() => 0),
    unsubscribe: (...channels: string[]) => subscriber.unsubscribe(...channels).catch(() => 0),
  } as unknown as Redis;

  return {
    publishClient,
    subscribeClient,
    ready: () => publisher.status === 'ready' && subscriber.status === 'ready',
    onResync(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      state.closing = true;
      listeners.clear();
      await Promise.allSettled(
        [publisher, subscriber].map((client) => (client.status === 'ready' ? client.quit() : client.disconnect())),
      );
    },
  };
}

/** Set once close() begins: what follows is not an outage. */
interface LinkState {
  closing: boolean;
}

function openConnections(url: string, prefix: string): { publisher: Redis; subscriber: Redis } {
  const name = (role: string) => `${prefix}${role}:${hostname()}:${process.pid}`.replace(/[^!-~]/g, '_');
  // Reconnect attempts every 100 ms at first, then every 2 s while Redis stays away.
  const retryStrategy = (times: number) => Math.min(times * 100, 2_000);
  const publisher = new Redis(url, {
    connectionName: name('pub'),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: PUBLISH_TIMEOUT_MS,
    retryStrategy,
  });
  // The subscribe connection keeps its SUBSCRIBE commands until it connects, and ioredis
  // subscribes again to every channel after a reconnect.
  const subscriber = new Redis(url, { connectionName: name('sub'), maxRetriesPerRequest: null, retryStrategy });
  return { publisher, subscriber };
}

/** An outage is logged once when it starts and once when it ends. */
function logOutages(client: Redis, role: string, log: Logger, state: LinkState): void {
  let downSince: number | null = null;
  client.on('error', (error: Error) => {
    if (state.closing || downSince !== null) return;
    downSince = Date.now();
    log.warn(
      { err: error, redis: role },
      `Redis ${role} connection failed; writes go on, live updates from other instances wait`,
    );
  });
  client.on('close', () => {
    if (state.closing || downSince !== null) return;
    downSince = Date.now();
    log.warn({ redis: role }, `Redis ${role} connection lost; writes go on, live updates from other instances wait`);
  });
  client.on('ready', () => {
    const since = downSince;
    downSince = null;
    if (since !== null) log.info({ redis: role, downMs: Date.now() - since }, `Redis ${role} connection back`);
  });
}

/** The subscribe side: anything published while this connection was away was missed; so was what a peer failed to publish. */
function resyncWhenMissed(
  subscriber: Redis,
  resyncChannel: string,
  origin: string,
  resync: (since: number, reason: ResyncReason) => void,
  state: LinkState,
): void {
  let missedSince: number | null = Date.now();
  let connectedBefore = false;
  subscriber.on('close', () => {
    if (!state.closing) missedSince ??= Date.now();
  });
  subscriber.on('ready', () => {
    const since = missedSince;
    // ioredis has sent its SUBSCRIBEs again before 'ready' reaches us; one more on the same
    // connection is answered after them, so the fresh snapshot cannot miss a notice sent between.
    subscriber.subscribe(resyncChannel).then(
      () => {
        if (since === null || subscriber.status !== 'ready') return;
        missedSince = null;
        resync(since, connectedBefore ? 'reconnected' : 'connected');
        connectedBefore = true;
      },
      () => {}, // the connection dropped again: its next 'ready' tries again
    );
  });
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== resyncChannel) return;
    try {
      const notice = JSON.parse(message) as { origin?: unknown; since?: unknown };
      if (notice.origin !== origin && typeof notice.since === 'number') resync(notice.since, 'peer');
    } catch {
      // Not ours: ignore.
    }
  });
}

/** The publish side: what this instance failed to publish, the others missed; once Redis is back it asks them to resync. */
function publishOrAskResync(
  publisher: Redis,
  resyncChannel: string,
  origin: string,
  log: Logger,
): (channel: string, message: string) => Promise<number> {
  let failedSince: number | null = null;
  let failures = 0;
  const publish = (channel: string, message: string): Promise<number> =>
    publisher.publish(channel, message).catch((error: Error) => {
      failures++;
      if (failedSince === null) {
        failedSince = Date.now();
        log.warn(
          { err: error, channel },
          'a notice could not be published to Redis; other instances will resynchronise once it is back',
        );
      }
      return 0;
    });
  publisher.on('ready', () => {
    if (failedSince === null) return;
    const since = failedSince;
    failedSince = null;
    log.info({ failures }, 'Redis is back: asking the other instances to resynchronise');
    failures = 0;
    void publish(resyncChannel, JSON.stringify({ origin, since }));
  });
  return publish;
}
