/**
 * What bounds subscription starts over WebSocket: what they cost the server, not the request rate.
 *
 * A page opens three subscriptions, and an office shares one VIEWER key among all its pages: after
 * a restart every page reconnects at once. Counted against the per-key request bucket (burst 120),
 * all but ~40 pages were refused. So WebSocket subscription starts skip that bucket
 * (src/security/rate-limit.ts) and meet these instead:
 *   - a cap on the subscriptions one key holds open on this instance (LIVE_MAX_SUBSCRIPTIONS_PER_KEY):
 *     what protects memory; past it, LIMIT_EXCEEDED;
 *   - a per-key start bucket twice that cap, refilled by the cap every minute: a reconnect of every
 *     page the key may hold fits at once, even while the server still holds the subscriptions of the
 *     sockets they left (after a network drop it notices those within two ping intervals); a churn
 *     of starts beyond that waits (RATE_LIMITED);
 *   - a per-socket start bucket (LIVE_SUBSCRIBE_BURST_PER_SOCKET, then LIVE_SUBSCRIBE_PER_SOCKET_PER_MINUTE):
 *     one socket that opens and closes subscriptions in a loop is stopped without touching the key's
 *     other pages (a reconnect is a new socket, with a full bucket).
 * Subscriptions over HTTP (server-sent events) are one request each and keep the request bucket.
 *
 * Placed after every plugin that replaces the subscribe function (useSharedLiveResults), so it
 * wraps the function that really runs and counts exactly what is open: a refused or failed start,
 * or one that ends, gives its place back.
 */
import type { ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { actorOf, type Caller } from '../auth/caller.js';
import { limitExceeded, rateLimited, secondsToWait } from '../schema/errors.js';
import { TokenBuckets } from '../security/rate-limit.js';

export interface SubscriptionLimits {
  /** Subscriptions one key may hold open on this instance; 0 turns the cap and the key's bucket off. */
  perKey: number;
  /** Starts one socket may make at once, then per minute; perMinute 0 turns the socket's bucket off. */
  socketBurst: number;
  socketPerMinute: number;
}

/** A WebSocket operation's context carries its socket (src/realtime/ws.server.ts passes it to getEnveloped). */
export function socketOf(contextValue: unknown): object | null {
  const socket = (contextValue as { socket?: unknown } | null)?.socket;
  return typeof socket === 'object' && socket !== null ? socket : null;
}

export interface SubscriptionAdmission {
  plugin: Plugin;
  /** Subscriptions open per key on this instance (for tests and metrics). */
  open(key: string): number;
}

export function subscriptionAdmission(limits: SubscriptionLimits): SubscriptionAdmission {
  const open = new Map<string, number>();
  const keyStarts = new TokenBuckets({ perMinute: limits.perKey, burst: 2 * limits.perKey });
  // Per socket, dropped with it.
  const socketStarts = new WeakMap<object, TokenBuckets>();
  const socketBucket = (socket: object) => {
    let buckets = socketStarts.get(socket);
    if (!buckets)
      socketStarts.set(
        socket,
        (buckets = new TokenBuckets({ perMinute: limits.socketPerMinute, burst: limits.socketBurst })),
      );
    return buckets;
  };
  const release = (key: string) => {
    const left = (open.get(key) ?? 1) - 1;
    if (left > 0) open.set(key, left);
    else open.delete(key);
  };

  /** Null when the start may go ahead (and is then counted), else the refusal. */
  function admit(socket: object, key: string) {
    if (limits.perKey > 0 && (open.get(key) ?? 0) >= limits.perKey)
      return limitExceeded(
        'subscriptionsPerKey',
        limits.perKey,
        `this key holds ${limits.perKey} open subscriptions on this server, the most it may (LIVE_MAX_SUBSCRIPTIONS_PER_KEY): close some first`,
      );
    const waitMs = socketBucket(socket).take('') || keyStarts.take(key);
    if (waitMs > 0) return rateLimited(secondsToWait(waitMs));
    open.set(key, (open.get(key) ?? 0) + 1);
    return null;
  }

  const plugin: Plugin = {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const socket = socketOf(args.contextValue);
      const caller = (args.contextValue as { caller?: Caller }).caller;
      if (!socket || !caller) return;
      const key = actorOf(caller);
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        const refusal = admit(socket, key);
        if (refusal) return { errors: [refusal] };
        let result: Awaited<ReturnType<typeof subscribeFn>>;
        try {
          result = await subscribeFn(subscribeArgs);
        } catch (error) {
          release(key);
          throw error;
        }
        if (!isAsyncIterable(result)) {
          release(key); // refused by its resolver (bad input, FORBIDDEN…): nothing is held
          return result;
        }
        return untilEnd(result, () => release(key));
      });
    },
  };
  return { plugin, open: (key) => open.get(key) ?? 0 };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The same stream, calling `ended` once when it finishes, fails or is returned. */
function untilEnd<T>(source: AsyncIterable<T>, ended: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let done = false;
  const end = () => {
    if (done) return;
    done = true;
    ended();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const item = await iterator.next();
        if (item.done) end();
        return item;
      } catch (error) {
        end();
        throw error;
      }
    },
    async return(value?: unknown) {
      end();
      await iterator.return?.(value);
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      end();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}
