/**
 * The change notices and events that travel between the write path and live subscribers: inside
 * this process, and with REDIS_URL between every instance of the service through graphql-yoga's
 * Redis event target (src/realtime/redis-link.ts holds the connections).
 *
 * With Redis, an event reaches this instance's own subscribers directly and the others' through
 * Redis (this instance skips its own echo), so a write's own instance stays live even while
 * Redis is away; the others are resynchronised once it is back (src/realtime/redis-resync.ts).
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub, type PubSub, type PubSubEventTarget } from 'graphql-yoga';
import type { Alert } from '../alerts/alerts.repository.js';
import type { Logger } from '../metrics/logger.js';
import { connectRedis, type RedisLink, type ResyncListener } from './redis-link.js';

/** A write touched `programId` between `from` (inclusive) and `to` (exclusive), in occurredAt. */
export interface ChangeNotice {
  programId: string;
  from: number;
  to: number;
}

export type PubSubChannels = {
  changes: [ChangeNotice];
  keyRevoked: [string];
  /** An alert after a transition or an acknowledgement (a plain row, so it can travel as JSON). */
  alertChanged: [Alert];
};

export interface EventBus extends PubSub<PubSubChannels> {
  /** Delivers to this instance's subscribers only (replays after an outage go no further). */
  publishLocal: PubSub<PubSubChannels>['publish'];
  /** null without REDIS_URL; else whether notices travel between instances right now (for /ready). */
  redisReady(): boolean | null;
  /** See RedisLink.onResync; never called without REDIS_URL. */
  onResync(listener: ResyncListener): () => void;
  close(): Promise<void>;
}

export interface EventBusOptions {
  redisUrl: string | null;
  redisPrefix?: string;
  /** Needed with Redis: outages are logged. */
  log?: Logger;
}

export function createEventBus(options: EventBusOptions = { redisUrl: null }): EventBus {
  const local = new EventTarget() as PubSubEventTarget<PubSubChannels>;
  // Every alertChanged subscriber is a listener: thousands of pages are expected, not a leak past 10.
  setMaxListeners(0, local as unknown as EventTarget);
  const localBus = createPubSub<PubSubChannels>({ eventTarget: local });
  if (options.redisUrl === null) {
    return {
      ...localBus,
      publishLocal: localBus.publish,
      redisReady: () => null,
      onResync: () => () => {},
      close: async () => {},
    };
  }
  if (!options.log) throw new Error('createEventBus: a logger is needed with Redis');
  const prefix = options.redisPrefix ?? 'kpi:';
  const origin = randomUUID();
  const link = connectRedis({ url: options.redisUrl, prefix, origin, log: options.log });
  const bus = createPubSub<PubSubChannels>({ eventTarget: bridge(local, link, prefix, origin) });
  return { ...bus, publishLocal: localBus.publish, redisReady: link.ready, onResync: link.onResync, close: link.close };
}

/** What travels through Redis: the event and the instance that sent it. */
interface Envelope {
  origin: string;
  detail: unknown;
}

type Listener = (event: CustomEvent) => void;
type ListenerLike = Listener | { handleEvent: Listener };

/**
 * An event target that dispatches to this process's listeners and, wrapped with its origin, to
 * Redis; listeners hear the other instances' events from Redis and their own instance's locally.
 */
function bridge(
  local: PubSubEventTarget<PubSubChannels>,
  link: RedisLink,
  prefix: string,
  origin: string,
): PubSubEventTarget<PubSubChannels> {
  const remote = createRedisEventTarget<CustomEvent>({
    publishClient: link.publishClient,
    subscribeClient: link.subscribeClient,
  });
  /** topic → listener → its Redis-side wrapper, so removal finds the wrapper again. */
  const wrappers = new Map<string, Map<ListenerLike, Listener>>();
  const call = (listener: ListenerLike, event: CustomEvent) =>
    'handleEvent' in listener ? listener.handleEvent(event) : listener(event);

  return {
    addEventListener(topic: string, listener: ListenerLike | null) {
      if (!listener) return;
      local.addEventListener(topic as never, listener as never);
      const wrapper: Listener = (event) => {
        const envelope = event.detail as Envelope | null;
        if (!envelope || envelope.origin === origin) return;
        call(listener, new CustomEvent(topic, { detail: envelope.detail }));
      };
      let byListener = wrappers.get(topic);
      if (!byListener) wrappers.set(topic, (byListener = new Map()));
      byListener.set(listener, wrapper);
      remote.addEventListener(prefix + topic, wrapper);
    },
    removeEventListener(topic: string, listener: ListenerLike | null) {
      if (!listener) return;
      local.removeEventListener(topic as never, listener as never);
      const byListener = wrappers.get(topic);
      const wrapper = byListener?.get(listener);
      if (!byListener || !wrapper) return;
      byListener.delete(listener);
      if (byListener.size === 0) wrappers.delete(topic);
      remote.removeEventListener(prefix + topic, wrapper);
    },
    dispatchEvent(event: CustomEvent) {
      local.dispatchEvent(new CustomEvent(event.type, { detail: event.detail }) as never);
      // Fire and forget: the link logs a failed publish and never lets it reach the writer.
      remote.dispatchEvent(
        new CustomEvent(prefix + event.type, { detail: { origin, detail: event.detail } satisfies Envelope }),
      );
      return true;
    },
  } as unknown as PubSubEventTarget<PubSubChannels>;
}
