/**
 * When and how long the client waits before trying a call again. Only transient failures are
 * retried: the network, 5xx answers, 429. A GraphQL error (bad input, forbidden…) is an answer,
 * and asking again would get the same one.
 */
export interface RetryPolicy {
  /** Tries after the first; 0 turns retrying off. */
  retries: number;
  /** The first wait; each next one doubles, up to maxDelayMs, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

/** HTTP statuses worth another try: the server (or a proxy in front of it) may answer next time. */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * The one backoff rule, for the client and for webhook delivery (alerts/notify.ts); it lives here
 * because the client imports nothing outside its folder. The window doubles from `baseMs` with each
 * attempt (counted from 0) up to `capMs`; the wait is `fixedShare` of the window plus a random part
 * of the rest (0: full jitter, 0.5: equal jitter). Unrounded: each caller rounds as it needs.
 */
export function exponentialBackoff(
  attempt: number,
  baseMs: number,
  capMs: number,
  fixedShare: number,
  random: () => number,
): number {
  const window = Math.min(capMs, baseMs * 2 ** attempt);
  return window * fixedShare + random() * (window * (1 - fixedShare));
}

/**
 * The wait before try number `attempt + 1` (attempt counts from 0). A Retry-After header (seconds
 * or an HTTP date) is honoured when it asks for longer, within maxDelayMs × 6.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfter?: string | null,
  random = Math.random,
): number {
  const jittered = Math.floor(exponentialBackoff(attempt, policy.baseDelayMs, policy.maxDelayMs, 0, random));
  const asked = parseRetryAfter(retryAfter);
  return asked === null ? jittered : Math.max(jittered, Math.min(asked, policy.maxDelayMs * 6));
}

function parseRetryAfter(value: string | null | undefined): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/**
 * The wait before the live socket's next reconnect: 0.25 s, plus full jitter over a window that
 * doubles from 0.5 s up to 10 s. When a server restarts, every page it held reconnects; the jitter
 * spreads them out instead of arriving in one burst.
 */
export function reconnectDelay(retries: number, random = Math.random): number {
  return 250 + backoffDelay({ retries: Infinity, baseDelayMs: 500, maxDelayMs: 10_000 }, retries, null, random);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
