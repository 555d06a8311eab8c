/**
 * Rate limits, deployment-wide where there is Redis (rate-limiter-flexible):
 *  - per API key, over HTTP and WebSocket operations (both run through yoga's plugin stack);
 *  - per client address, for requests that bring no valid key (missing, malformed, unknown or
 *    revoked): what they may cost the service is the key lookup and the answer.
 *
 * Each limit is a steady rate in short fixed windows (RATE_LIMIT_PER_MINUTE spread over the minute:
 * 600 a minute is 10 a second) plus a burst allowance (BurstyRateLimiter): a key may make
 * RATE_LIMIT_BURST operations at once, and no more than the steady rate plus that burst in any
 * minute. Integrations are expected to batch (recordEvents takes 10,000 events for one operation).
 *
 * With REDIS_URL the counters live in Redis, so N instances behind a balancer allow a key the rate
 * once, not N times. Should Redis be unreachable (or slower than REDIS_LIMIT_TIMEOUT_MS), each
 * instance counts in its own memory instead (rate-limiter-flexible's insurance limiter): the
 * service keeps answering, and each instance allows the full rate until Redis is back. That holds
 * for a starting instance too, until its connection is ready, so /ready waits for it.
 *
 * Subscriptions over WebSocket are not counted here: a reconnect of every page sharing a key would
 * spend the bucket at once. What bounds them is src/realtime/subscription-admission.ts.
 */
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import proxyAddr from 'proxy-addr';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { actorOf, type Caller } from '../auth/caller.js';
import type { Logger } from '../metrics/logger.js';
import { socketOf } from '../realtime/subscription-admission.js';
import { rateLimited, secondsToWait } from '../schema/errors.js';

export interface RateLimitSettings {
  /** Operations per minute; 0 turns the limit off. */
  perMinute: number;
  /** How many may come at once. */
  burst: number;
}

export interface RateLimitOptions {
  perKey: RateLimitSettings;
  /** Per client address, for requests without a valid key. */
  unauthenticated: RateLimitSettings;
  /** TRUSTED_PROXIES: the addresses whose X-Forwarded-For is believed (proxy-addr's syntax); empty: none. */
  trustedProxies: readonly string[];
  redisUrl: string | null;
  redisPrefix: string;
  /** How long a Redis answer is waited for before the instance's own count decides. */
  redisTimeoutMs: number;
  log: Logger;
}

/** Milliseconds until the next operation is allowed; 0: allowed now (and counted). */
type Take = (key: string) => Promise<number>;

export class RateLimits {
  private constructor(
    private readonly perKey: Take,
    private readonly perAddress: Take,
    private readonly trust: (address: string, hop: number) => boolean,
    private readonly redis: Redis | null,
    private readonly local: { decisions: number },
  ) {}

  static open(options: RateLimitOptions): RateLimits {
    const redis = options.redisUrl ? connect(options) : null;
    const prefix = `${options.redisPrefix}ratelimit:`;
    const local = { decisions: 0 };
    return new RateLimits(
      limiter(`${prefix}key`, options.perKey, redis, options.log, local),
      limiter(`${prefix}address`, options.unauthenticated, redis, options.log, local),
      proxyAddr.compile([...options.trustedProxies]),
      redis,
      local,
    );
  }

  /**
   * With Redis, how many checks this instance's own memory answered since start: while Redis was
   * not ready (before its connection is, or during an outage) or slower than REDIS_LIMIT_TIMEOUT_MS.
   * Each such check counts apart from the other instances (rate_limit_local_decisions_total).
   */
  localDecisions(): number {
    return this.local.decisions;
  }

  /** Takes one operation of a key's allowance. */
  takeKey(actor: string): Promise<number> {
    return this.perKey(actor);
  }

  /**
   * After an authentication failure from `req`: counts it against the client's address, and gives
   * what to answer: the failure itself, or RATE_LIMITED once the address has spent its allowance.
   */
  async refuseUnauthenticated(req: IncomingMessage | undefined, failure: unknown): Promise<unknown> {
    if (!req) return failure;
    const waitMs = await this.perAddress(this.clientAddress(req));
    return waitMs === 0 ? failure : unauthenticatedRateLimited(secondsToWait(waitMs));
  }

  /**
   * The client's address: the peer's, or with TRUSTED_PROXIES the nearest X-Forwarded-For hop not
   * itself trusted. Without a trusted proxy the header is ignored: anyone could write it.
   */
  clientAddress(req: IncomingMessage): string {
    return proxyAddr(req, this.trust);
  }

  /** Whether counts go to Redis now (null: no Redis configured); /ready waits for it (app.ts). */
  redisReady(): boolean | null {
    return this.redis ? this.redis.status === 'ready' : null;
  }

  async close(): Promise<void> {
    if (this.redis) await (this.redis.status === 'ready' ? this.redis.quit() : this.redis.disconnect());
  }
}

/**
 * A connection of its own, failing fast: no queue while disconnected (the insurance limiter answers
 * at once), and a bounded wait for each answer.
 */
function connect(options: RateLimitOptions): Redis {
  const redis = new Redis(options.redisUrl!, {
    connectionName: `${options.redisPrefix}ratelimit:${hostname()}:${process.pid}`.replace(/[^!-~]/g, '_'),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.redisTimeoutMs,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    options.log.warn(
      { err: error },
      'Redis unreachable for rate limits: each instance counts on its own until it is back',
    );
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    options.log.info('Redis back: rate limits are shared by every instance again');
  });
  return redis;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * One limit as BurstyRateLimiter sees it: the steady rate in the shortest whole-second windows that
 * hold a whole number of operations (600 a minute: 10 a second; 100 a minute: 5 every 3 s), and a
 * burst limiter for the rest of `burst`, renewed each minute. In Redis when there is one, with the
 * instance's memory as insurance.
 */
function limiter(
  prefix: string,
  settings: RateLimitSettings,
  redis: Redis | null,
  log: Logger,
  local: { decisions: number },
): Take {
  if (settings.perMinute === 0) return async () => 0;
  const g = gcd(settings.perMinute, 60);
  const make = (keyPrefix: string, points: number, duration: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration });
    if (!redis) return memory;
    // Counted: each use is a decision this instance made alone (see localDecisions).
    const consume = memory.consume.bind(memory);
    memory.consume = (...args) => {
      local.decisions++;
      return consume(...args);
    };
    return new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points,
      duration,
      insuranceLimiter: memory,
      rejectIfRedisNotReady: true,
    });
  };
  const steady = make(prefix, settings.perMinute / g, 60 / g);
  const extra = settings.burst - settings.perMinute / g;
  const limit = extra > 0 ? new BurstyRateLimiter(steady, make(`${prefix}:burst`, extra, 60)) : steady;
  return async (key) => {
    try {
      await limit.consume(key);
      return 0;
    } catch (refusal) {
      if (refusal instanceof RateLimiterRes) return Math.max(1, refusal.msBeforeNext);
      // Not a refusal (the insurance limiter should have answered): let the operation through.
      log.error({ err: refusal }, 'rate limit check failed; the operation is let through');
      return 0;
    }
  };
}

const unauthenticatedRateLimited = (retryAfterSeconds: number) =>
  rateLimited(
    retryAfterSeconds,
    `too many requests without a valid API key from this address: retry in ${retryAfterSeconds} s`,
  );

/** Refuses an operation whose key has spent its allowance, with RATE_LIMITED and a Retry-After. */
export function rateLimitPlugin(limits: RateLimits): Plugin {
  const check = async (
    contextValue: unknown,
    document: import('graphql').DocumentNode,
    operationName?: string | null,
  ) => {
    const caller = (contextValue as { caller?: Caller }).caller;
    if (!caller) return null;
    if (socketOf(contextValue) && getOperationAST(document, operationName)?.operation === 'subscription') return null;
    const waitMs = await limits.takeKey(actorOf(caller));
    return waitMs === 0 ? null : rateLimited(secondsToWait(waitMs));
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const error = await check(args.contextValue, args.document, args.operationName);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const error = await check(args.contextValue, args.document, args.operationName);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

/**
 * A token bucket in memory (per instance): `burst` tokens, refilled at `perMinute` a minute. What
 * bounds subscription starts per socket and per key on one instance (subscription-admission.ts).
 */
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
