/**
 * A revoked key's subscriptions end, whatever the field and whatever the transport: the stream
 * that execution returns is wrapped here, so server-sent events (which have no socket to close)
 * end like WebSocket ones. On WebSocket the socket is also closed with 4403 (ws.server.ts).
 *
 * Revocations arrive on the 'keyRevoked' channel: from revokeApiKey on this instance (before it
 * answers), from other instances through Redis, and from the resync after a Redis outage.
 * Placed after every plugin that replaces the subscribe function, so it wraps the stream of each
 * subscriber, not one shared among several.
 */
import type { ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Caller } from '../auth/caller.js';
import type { EventBus } from './pubsub.js';

export function endSubscriptionsOnRevocation(bus: EventBus): Plugin {
  /** keyId → how to end each of its open subscriptions. */
  const open = new Map<string, Set<() => void>>();
  void (async () => {
    for await (const keyId of bus.subscribe('keyRevoked')) {
      const ends = open.get(keyId);
      if (ends) for (const end of [...ends]) end();
    }
  })();

  const register = (keyId: string, end: () => void) => {
    let ends = open.get(keyId);
    if (!ends) open.set(keyId, (ends = new Set()));
    ends.add(end);
    return () => {
      ends.delete(end);
      if (ends.size === 0 && open.get(keyId) === ends) open.delete(keyId);
    };
  };

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const keyId = (args.contextValue as { caller?: Caller }).caller?.keyId;
      // ADMIN_API_KEY (no key id) is configuration, not a key: it is never revoked.
      if (!keyId) return;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const result = await subscribeFn(subscribeArgs);
        if (!isAsyncIterable(result)) return result;
        return endable(result, (end) => register(keyId, end));
      });
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The same stream, until `end` (given to `register`) is called: then a waiting `next()` resolves
 * done at once, nothing more is yielded, and the source is returned.
 */
function endable<T>(source: AsyncIterable<T>, register: (end: () => void) => () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let ended = false;
  let wake: (result: typeof done) => void = () => {};
  const stopped = new Promise<typeof done>((resolve) => {
    wake = resolve;
  });
  const finish = () => {
    if (ended) return false;
    ended = true;
    unregister();
    wake(done);
    return true;
  };
  const unregister = register(() => {
    if (finish()) void Promise.resolve(iterator.return?.()).catch(() => {});
  });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (ended) return done;
      try {
        const item = await Promise.race([iterator.next(), stopped]);
        if (ended) return done;
        if (item.done) finish();
        return item;
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return() {
      if (finish()) await iterator.return?.();
      return done;
    },
    async throw(error?: unknown) {
      finish();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}
