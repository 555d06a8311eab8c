/**
 * Webhook delivery: a worker that drains the notification outbox. Each row is sent (signed) until
 * a receiver answers 2xx, with exponential backoff and jitter between attempts, up to a cap; each
 * attempt is recorded. Rows are leased, so a slow receiver holds only its own rows, and a row whose
 * worker died is taken up again once the lease expires: a crash after the commit still delivers.
 *
 * Delivery is at least once: a receiver dedupes on the X-Kpi-Event-Id header, which is the same for
 * every retry (and every webhook) of one transition.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { exponentialBackoff } from '../client/retry.js';
import type { Db } from '../db/types.js';
import type { Logger } from '../metrics/logger.js';
import type { AddressRule } from './webhook-address.js';
import { DeliveryFailure, postWebhook } from './webhook-post.js';
import {
  dueNotifications,
  leaseNotification,
  recordAttempt,
  releaseLease,
  webhooksByIds,
  type DeliveryState,
  type Notification,
} from './webhooks.repository.js';

export const SIGNATURE_HEADER = 'x-kpi-signature';
export const TIMESTAMP_HEADER = 'x-kpi-timestamp';
export const EVENT_ID_HEADER = 'x-kpi-event-id';

/** `sha256=<hex HMAC-SHA256 of "timestamp.body">`, with the timestamp in Unix seconds. */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: recompute the signature and refuse a stale timestamp, so a forged call
 * fails the first check and a replayed one the second.
 */
export function verifySignature(
  secret: string,
  headers: { timestamp: string | null | undefined; signature: string | null | undefined },
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, timestamp, body));
  const given = Buffer.from(headers.signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface DeliveryOptions {
  timeoutMs: number;
  /** Which addresses a webhook may be sent to (WEBHOOK_ALLOW_LOOPBACK). */
  addresses: AddressRule;
  maxAttempts: number;
  backoffMs: number;
  backoffCapMs: number;
  /** Rows sent at once; one slow receiver never holds more than its own. */
  concurrency?: number;
  /** How often the outbox is looked at when nothing wakes the worker. */
  pollMs?: number;
  /** Wall clock: delivery timing follows real time even when the service clock is pinned. */
  clock?: () => number;
  random?: () => number;
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random, never above the cap. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random = Math.random): number {
  return Math.round(exponentialBackoff(Math.max(0, attempt - 1), baseMs, capMs, 0.5, random));
}

/** What the worker reports after each recorded attempt (logs and tests listen). */
export interface AttemptReport {
  notificationId: string;
  webhookId: string;
  eventId: string;
  attempt: number;
  state: DeliveryState;
}

export class Notifier {
  /** Emits 'attempt' with an AttemptReport after each attempt is recorded. */
  readonly events = new EventEmitter<{ attempt: [AttemptReport] }>();
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | null = null;
  /** Wake-ups for retries that fall due before the next poll. */
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private stopped = true;
  private readonly clock: () => number;
  private readonly random: () => number;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: DeliveryOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Looks at the outbox now (called after a commit that wrote notifications). */
  kick(): void {
    if (this.stopped) return;
    if (this.scanning !== null) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scan().finally(() => {
      this.scanning = null;
      if (this.rescan) {
        this.rescan = false;
        this.kick();
      } else this.schedule();
    });
  }

  /** Stops taking rows, abandons attempts in flight (their rows stay pending) and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const { abort } of this.inFlight.values()) abort.abort();
    await this.scanning;
    await Promise.all([...this.inFlight.values()].map((d) => d.done));
  }

  /** Resolves when nothing is being sent (tests use it to look after the fact). */
  async idle(): Promise<void> {
    while (this.scanning || this.inFlight.size > 0) {
      await this.scanning;
      await Promise.all([...this.inFlight.values()].map((d) => d.done));
    }
  }

  private wakeAfter(delay: number): void {
    if (this.stopped || delay >= (this.options.pollMs ?? 1_000)) return;
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.kick();
    }, delay);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), this.options.pollMs ?? 1_000);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    const room = (this.options.concurrency ?? 8) - this.inFlight.size;
    if (room <= 0) return;
    let rows: Notification[];
    try {
      rows = await dueNotifications(this.db, this.clock(), room, [...this.inFlight.keys()]);
    } catch (error) {
      if (!this.stopped) this.log.error({ err: error }, 'webhook outbox scan failed');
      return;
    }
    for (const row of rows) {
      if (this.stopped) return;
      const now = this.clock();
      // The lease outlives the request's timeout, so no other worker sends the row meanwhile.
      if (!(await leaseNotification(this.db, row.id, now, now + this.options.timeoutMs + 5_000))) continue;
      const abort = new AbortController();
      const done = this.deliver(row, abort.signal)
        .catch((error) => {
          if (!this.stopped) this.log.error({ err: error, delivery: row.id }, 'webhook delivery could not be recorded');
        })
        .finally(() => {
          this.inFlight.delete(row.id);
          // A freed slot may let a waiting row go.
          this.kick();
        });
      this.inFlight.set(row.id, { abort, done });
    }
  }

  private async deliver(row: Notification, shutdown: AbortSignal): Promise<void> {
    const [webhook] = await webhooksByIds(this.db, [row.webhook_id]);
    const attempt = row.attempts + 1;
    const startedAt = this.clock();
    let statusCode: number | null = null;
    let error: string | null = null;
    if (!webhook || webhook.deleted_at !== null) {
      error = 'the webhook was deleted';
    } else {
      const timestamp = Math.floor(startedAt / 1000);
      try {
        statusCode = await postWebhook(
          webhook.url,
          {
            'content-type': 'application/json',
            'user-agent': 'kpi-monitoring-service',
            [EVENT_ID_HEADER]: row.event_id,
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: sign(webhook.secret, timestamp, row.body),
          },
          row.body,
          { rule: this.options.addresses, timeoutMs: this.options.timeoutMs, signal: shutdown },
        );
      } catch (caught) {
        if (shutdown.aborted) {
          // Shutting down is not the receiver's fault: no attempt is counted, the row stays pending.
          await releaseLease(this.db, row.id);
          return;
        }
        // The admin reads a class of failure; the socket's own error goes to the server's log only.
        const failure =
          caught instanceof DeliveryFailure ? caught : new DeliveryFailure('could not connect or send', caught);
        this.log.debug({ webhook: row.webhook_id, delivery: row.id, err: failure.detail }, 'webhook attempt failed');
        error = failure.message;
      }
    }
    const delivered = statusCode !== null && statusCode >= 200 && statusCode < 300;
    const giveUp = !delivered && (attempt >= this.options.maxAttempts || error === 'the webhook was deleted');
    const now = this.clock();
    const state: DeliveryState = delivered ? 'DELIVERED' : giveUp ? 'FAILED' : 'PENDING';
    const delay =
      state === 'PENDING' ? backoffDelay(attempt, this.options.backoffMs, this.options.backoffCapMs, this.random) : 0;
    await this.db.transaction().execute((trx) =>
      recordAttempt(trx, {
        attempt: {
          notification_id: row.id,
          attempt,
          at: startedAt,
          status_code: statusCode,
          error,
          duration_ms: now - startedAt,
        },
        state,
        nextAttemptAt: state === 'PENDING' ? now + delay : row.next_attempt_at,
      }),
    );
    if (state === 'PENDING') this.wakeAfter(delay);
    if (state === 'FAILED') {
      this.log.warn(
        { webhook: row.webhook_id, delivery: row.id, eventId: row.event_id, attempts: attempt, error, statusCode },
        'webhook delivery failed for good',
      );
    }
    this.events.emit('attempt', {
      notificationId: row.id,
      webhookId: row.webhook_id,
      eventId: row.event_id,
      attempt,
      state,
    });
  }
}
