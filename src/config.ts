/** Environment → typed, validated configuration. A bad value stops start-up with a message naming it. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string | null;
  adminApiKey: string | null;
  production: boolean;
  /** Least time between two pushes of one live scope (ms). At most 750, so the last state still arrives within 1 s. */
  liveThrottleMs: number;
  /** WebSocket ping interval (ms); a client silent for another interval is dropped. */
  liveKeepAliveMs: number;
  /** How often alert rules are judged as windows slide (ms). */
  alertIntervalMs: number;
  /** How long record notices gather before their programs' rules are judged (ms). */
  alertDebounceMs: number;
  /** Webhook delivery: request timeout, attempts before a delivery fails, backoff base and cap (ms). */
  webhookTimeoutMs: number;
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  webhookBackoffCapMs: number;
}

export class ConfigError extends Error {}

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
    redisUrl: env.REDIS_URL || null,
    adminApiKey: env.ADMIN_API_KEY || null,
    production: env.NODE_ENV === 'production',
    liveThrottleMs: int(env, 'LIVE_THROTTLE_MS', 250, 0, 750),
    liveKeepAliveMs: int(env, 'LIVE_KEEPALIVE_MS', 12_000, 50, 600_000),
    // At most 60 s: rules are judged at least every minute as windows slide.
    alertIntervalMs: int(env, 'ALERT_INTERVAL_MS', 30_000, 100, 60_000),
    // At most 800 ms, so a record is judged within 1 s.
    alertDebounceMs: int(env, 'ALERT_DEBOUNCE_MS', 200, 0, 800),
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 5_000, 100, 60_000),
    webhookMaxAttempts: int(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
    webhookBackoffMs: int(env, 'WEBHOOK_BACKOFF_MS', 1_000, 1, 3_600_000),
    webhookBackoffCapMs: int(env, 'WEBHOOK_BACKOFF_CAP_MS', 300_000, 1, 86_400_000),
  };
}
