/**
 * Rate limiting per API key: a token bucket in memory, shared by HTTP and WebSocket operations
 * (both run through yoga's plugin stack). A bucket holds `burst` tokens and refills at
 * `perMinute` a minute; every operation takes one. Integrations are expected to batch
 * (recordEvents takes 10,000 events for one token).
 *
 * In memory means per instance: with several instances behind a balancer, each allows the rate.
 *
 * Subscriptions over WebSocket are not counted here: a reconnect of every page sharing a key would
 * spend the bucket at once. What bounds them is src/realtime/subscription-admission.ts.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { actorOf, type Caller } from '../auth/caller.js';
import { socketOf } from '../realtime/subscription-admission.js';
import { rateLimited } from '../schema/errors.js';
import { refuseBeforeExecution } from './before-execution.js';

export interface RateLimitSettings {
  /** Tokens added per minute; 0 turns rate limiting off. */
  perMinute: number;
  /** The bucket's size: how many operations may come at once. */
  burst: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Takes one token for `key`: 0 when allowed, else the milliseconds until a token is free. */
  take(key: string): number {
    const { perMinute, burst } = this.settings;
    if (perMinute === 0) return 0;
    const now = this.clock();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / perMs);
  }
}

/** Refuses an operation whose key has no token left, with RATE_LIMITED and a Retry-After. */
export function rateLimitPlugin(buckets: TokenBuckets): Plugin {
  return refuseBeforeExecution(({ contextValue, document, operationName }) => {
    const caller = (contextValue as { caller?: Caller }).caller;
    if (!caller) return null;
    if (socketOf(contextValue) && getOperationAST(document, operationName)?.operation === 'subscription') return null;
    const waitMs = buckets.take(actorOf(caller));
    return waitMs === 0 ? null : rateLimited(Math.max(1, Math.ceil(waitMs / 1000)));
  });
}
