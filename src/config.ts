/** Environment → typed, validated configuration. A bad value stops start-up with a message naming it. */
import proxyAddr from 'proxy-addr';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** Most PostgreSQL connections this instance opens (instances × this must stay under max_connections). */
  databasePoolMax: number;
  redisUrl: string | null;
  /** Prefix of the Redis channels, so deployments (or tests) sharing one Redis never hear each other. */
  redisPrefix: string;
  adminApiKey: string | null;
  production: boolean;
  /** A token Prometheus sends to read /metrics (ADMIN keys may read it too); null: ADMIN keys only. */
  metricsToken: string | null;
  /** pino level of the JSON logs: fatal, error, warn, info, debug, trace or silent. */
  logLevel: LogLevel;
  /**
   * How long an idle HTTP keep-alive connection stays open (ms). Above a load balancer's idle
   * timeout (60 s on most), so the balancer, not the instance, closes idle connections: otherwise
   * a request sent just as the instance closes one fails with a 502.
   */
  httpKeepAliveMs: number;
  /** How long a client may take to send a request's headers (ms): Node's headersTimeout, against slowloris. */
  httpHeadersTimeoutMs: number;
  /** How long a client may take to send a whole request, body included (ms): Node's requestTimeout (408 past it). */
  httpRequestTimeoutMs: number;
  /** Least time between two pushes of one live scope (ms). At most 750, so the last state still arrives within 1 s. */
  liveThrottleMs: number;
  /** WebSocket ping interval (ms); a client silent for another interval is dropped. */
  liveKeepAliveMs: number;
  /** Bytes a socket may have unsent before it is closed as too slow (4008): a reader that stops cannot grow memory. */
  liveMaxBufferedBytes: number;
  /** Events waiting for a commit beyond which record mutations are refused with OVERLOADED (503), not queued. */
  recordQueueMaxEvents: number;
  /**
   * Whether a SQLite file's large commits (batches) run in a writer thread (src/write/event-writer.ts):
   * reads stay quick while batches stream in, for about 100 MB more memory while it runs.
   */
  sqliteWriterThread: boolean;
  /** HTTP requests answered at once beyond which new ones are refused with OVERLOADED (503); probes are exempt. */
  maxInFlightRequests: number;
  /** How often alert rules are judged as windows slide (ms). */
  alertIntervalMs: number;
  /** How long record notices gather before their programs' rules are judged (ms). */
  alertDebounceMs: number;
  /** Webhook delivery: request timeout, attempts before a delivery fails, backoff base and cap (ms). */
  webhookTimeoutMs: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookBackoffCapMs: number;
  /**
   * WEBHOOK_ALLOW_LOOPBACK=true: webhooks may target loopback addresses (tests, a receiver on the same
   * host). Private, link-local, metadata and multicast addresses stay refused whatever this says.
   */
  webhookAllowLoopback: boolean;
  /** Limits on every operation (see src/security/limits.ts); each refuses before any resolver runs. */
  limits: Limits;
  /** Per-key limit over HTTP and WebSocket operations (src/security/rate-limit.ts); perMinute 0 turns it off. */
  rateLimit: { perMinute: number; burst: number };
  /** Per client address, for requests without a valid key; perMinute 0 turns it off. */
  unauthenticatedRateLimit: { perMinute: number; burst: number };
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDR ranges, or proxy-addr's names); empty: none. */
  trustedProxies: string[];
  /** How long a rate limit waits for Redis before the instance's own count decides (ms). */
  redisLimitTimeoutMs: number;
  /** What bounds WebSocket subscription starts instead of the rate limit (src/realtime/subscription-admission.ts). */
  liveSubscriptions: { perKey: number; perSocket: number; socketBurst: number; socketPerMinute: number };
  /** Connections the kernel queues before the server accepts them: a reconnect of every socket arrives at once. */
  listenBacklog: number;
  /** Origins a browser may call from; empty: same origin only. */
  corsOrigins: string[];
  /**
   * `auto`: automatic persisted queries besides plain ones; `only`: trusted documents alone (the
   * typed client's and the page's, plus `file`'s), see src/security/persisted-operations.ts.
   */
  persistedOperations: { mode: 'auto' | 'only'; file: string | null };
}

export interface Limits {
  depth: number;
  aliases: number;
  directives: number;
  /** Tokens of the GraphQL document (variables are not tokens: send batches as variables). */
  tokens: number;
  /** Estimated cost, list sizes counted (see src/security/cost-limit.ts). */
  cost: number;
  /** Request body bytes: a realistic 10,000-event recordEvents batch is about 2.0 MB. */
  bodyBytes: number;
  /** Selections of an operation with every fragment spread copied out; checked before validation. */
  expandedSelections: number;
  /** Values in one list argument or input field (events excepted), far below the databases' variable limits. */
  listLength: number;
}

export class ConfigError extends Error {}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || './data/metrics.db',
    databasePoolMax: int(env, 'DATABASE_POOL_MAX', 10, 1, 1_000),
    redisUrl: redisUrl(env),
    redisPrefix: env.REDIS_PREFIX || 'kpi:',
    adminApiKey: env.ADMIN_API_KEY || null,
    production: env.NODE_ENV === 'production',
    metricsToken: env.METRICS_TOKEN || null,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    httpKeepAliveMs: int(env, 'HTTP_KEEPALIVE_MS', 65_000, 1_000, 3_600_000),
    httpHeadersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    httpRequestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    liveThrottleMs: int(env, 'LIVE_THROTTLE_MS', 250, 0, 750),
    liveKeepAliveMs: int(env, 'LIVE_KEEPALIVE_MS', 12_000, 50, 600_000),
    liveMaxBufferedBytes: int(env, 'LIVE_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1_024, 1024 * 1024 * 1024),
    // Five full commits' worth: enough to keep the writer busy, few enough to answer within seconds.
    recordQueueMaxEvents: int(env, 'RECORD_QUEUE_MAX_EVENTS', 100_000, 1, 10_000_000),
    sqliteWriterThread: oneOf(env, 'SQLITE_WRITER_THREAD', ['on', 'off'], 'on') === 'on',
    maxInFlightRequests: int(env, 'MAX_IN_FLIGHT_REQUESTS', 256, 1, 100_000),
    // At most 60 s: rules are judged at least every minute as windows slide.
    alertIntervalMs: int(env, 'ALERT_INTERVAL_MS', 30_000, 100, 60_000),
    // At most 800 ms, so a record is judged within 1 s.
    alertDebounceMs: int(env, 'ALERT_DEBOUNCE_MS', 200, 0, 800),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 5_000, 100, 60_000),
    webhookMaxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
    webhookBackoffMs: int(env, 'WEBHOOK_BACKOFF_MS', 1_000, 1, 3_600_000),
    webhookBackoffCapMs: int(env, 'WEBHOOK_BACKOFF_CAP_MS', 300_000, 1, 86_400_000),
    webhookAllowLoopback: oneOf(env, 'WEBHOOK_ALLOW_LOOPBACK', ['true', 'false'], 'false') === 'true',
    limits: {
      depth: int(env, 'LIMIT_DEPTH', 6, 1, 100),
      aliases: int(env, 'LIMIT_ALIASES', 15, 0, 1_000),
      directives: int(env, 'LIMIT_DIRECTIVES', 10, 0, 1_000),
      tokens: int(env, 'LIMIT_TOKENS', 1_000, 10, 100_000),
      cost: int(env, 'LIMIT_COST', 50_000, 1, 10_000_000),
      bodyBytes: int(env, 'LIMIT_BODY_BYTES', 3 * 1024 * 1024, 1_024, 1024 * 1024 * 1024),
      expandedSelections: int(env, 'LIMIT_EXPANDED_SELECTIONS', 2_000, 10, 1_000_000),
      // At most 10,000: one list may become an IN-list or a multi-row insert of two values per item.
      listLength: int(env, 'LIMIT_LIST_LENGTH', 1_000, 1, 10_000),
    },
    rateLimit: {
      perMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
      burst: int(env, 'RATE_LIMIT_BURST', 120, 1, 1_000_000),
    },
    // A caller without a key has nothing to do but find one: a browser's page load asks a few times.
    unauthenticatedRateLimit: {
      perMinute: int(env, 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 60, 0, 1_000_000),
      burst: int(env, 'RATE_LIMIT_UNAUTHENTICATED_BURST', 30, 1, 1_000_000),
    },
    trustedProxies: trustedProxies(env),
    redisLimitTimeoutMs: int(env, 'REDIS_LIMIT_TIMEOUT_MS', 250, 10, 10_000),
    liveSubscriptions: {
      // 20 KB or so each (bench/FANOUT.md): 10,000 open subscriptions of one key hold about 200 MB.
      perKey: int(env, 'LIVE_MAX_SUBSCRIPTIONS_PER_KEY', 10_000, 0, 10_000_000),
      // Operations one socket holds open at once: a page holds 3 to 6; one socket cannot pin thousands.
      perSocket: int(env, 'LIVE_MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1, 1_000_000),
      // A page opens 3 and opens 3 more each time its view changes.
      socketBurst: int(env, 'LIVE_SUBSCRIBE_BURST_PER_SOCKET', 30, 1, 1_000_000),
      socketPerMinute: int(env, 'LIVE_SUBSCRIBE_PER_SOCKET_PER_MINUTE', 60, 0, 1_000_000),
    },
    // Linux caps it at net.core.somaxconn (4096 by default since 5.4); Node's own default is 511.
    listenBacklog: int(env, 'LISTEN_BACKLOG', 4_096, 1, 1_000_000),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    persistedOperations: {
      mode: oneOf(env, 'PERSISTED_OPERATIONS', ['auto', 'only'], 'auto'),
      file: env.PERSISTED_OPERATIONS_FILE || null,
    },
  };
}

/** A comma-separated list of origins such as `https://kpi.example.gov,http://localhost:5173`. */
function origins(env: NodeJS.ProcessEnv, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((origin) => {
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch {
        // reported below
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        throw new ConfigError(
          `${name} must list origins such as "https://kpi.example.gov" (scheme, host, optional port; no path), got "${origin}"`,
        );
      }
      return origin;
    });
}

/**
 * TRUSTED_PROXIES: comma-separated addresses or CIDR ranges (`10.0.0.0/8`), or `loopback`,
 * `linklocal`, `uniquelocal`: the proxies in front of the service, whose X-Forwarded-For is believed.
 */
function trustedProxies(env: NodeJS.ProcessEnv): string[] {
  const list = (env.TRUSTED_PROXIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    proxyAddr.compile(list);
  } catch (error) {
    throw new ConfigError(
      `TRUSTED_PROXIES must list addresses, CIDR ranges (10.0.0.0/8) or loopback, linklocal, uniquelocal: ${(error as Error).message}`,
    );
  }
  return list;
}

function redisUrl(env: NodeJS.ProcessEnv): string | null {
  const raw = env.REDIS_URL;
  if (!raw) return null;
  // The value is not echoed: it may carry a password.
  if (!/^rediss?:\/\/[^/]/.test(raw))
    throw new ConfigError('REDIS_URL must look like redis://[user:password@]host:6379[/db] or rediss://...');
  return raw;
}
