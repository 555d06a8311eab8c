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
    alertIntervalMs: int(env, 'ALERT_INTERVAL_MS', 30_000, 100, 3_600_000),
  };
}
