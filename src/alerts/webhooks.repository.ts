/** Webhooks, the notification outbox and its delivery attempts. Plain functions over `db` or a transaction. */
import type { Executor, NotificationAttemptTable, NotificationTable, WebhookTable } from '../db/types.js';
import { SEVERITIES, type Severity } from './evaluate.js';

export type Webhook = Omit<WebhookTable, 'min_severity'> & { min_severity: Severity };

export type DeliveryState = 'PENDING' | 'DELIVERED' | 'FAILED';
export const DELIVERY_STATES: readonly DeliveryState[] = ['PENDING', 'DELIVERED', 'FAILED'];

export type Notification = Omit<NotificationTable, 'state'> & { state: DeliveryState };

export type DeliveryAttempt = NotificationAttemptTable;

const numOrNull = (v: unknown) => (v == null ? null : Number(v));

function toWebhook(row: WebhookTable): Webhook {
  return {
    ...row,
    min_severity: row.min_severity as Severity,
    created_at: Number(row.created_at),
    deleted_at: numOrNull(row.deleted_at),
  };
}

function toNotification(row: NotificationTable): Notification {
  return {
    ...row,
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    next_attempt_at: Number(row.next_attempt_at),
    leased_until: numOrNull(row.leased_until),
    created_at: Number(row.created_at),
    delivered_at: numOrNull(row.delivered_at),
  };
}

function toAttempt(row: NotificationAttemptTable): DeliveryAttempt {
  return {
    ...row,
    attempt: Number(row.attempt),
    at: Number(row.at),
    status_code: numOrNull(row.status_code),
    duration_ms: Number(row.duration_ms),
  };
}

// ---- webhooks

export async function insertWebhook(db: Executor, webhook: Webhook): Promise<Webhook> {
  await db.insertInto('webhooks').values(webhook).execute();
  return webhook;
}

export async function softDeleteWebhook(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set({ deleted_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Live webhooks; `programIds` null: all of them, else those of these programs and the every-program ones. */
export async function listWebhooks(db: Executor, programIds: readonly string[] | null): Promise<Webhook[]> {
  let query = db.selectFrom('webhooks').selectAll().where('deleted_at', 'is', null);
  if (programIds !== null) {
    query = query.where((eb) =>
      programIds.length === 0
        ? eb('program_id', 'is', null)
        : eb.or([eb('program_id', 'is', null), eb('program_id', 'in', programIds)]),
    );
  }
  return (await query.orderBy('created_at').orderBy('id').execute()).map(toWebhook);
}

export async function webhooksByIds(db: Executor, ids: readonly string[]): Promise<Webhook[]> {
  if (ids.length === 0) return [];
  return (await db.selectFrom('webhooks').selectAll().where('id', 'in', ids).execute()).map(toWebhook);
}

/** The live webhooks that want a notification about `programId` at `severity`. */
export async function webhooksFor(db: Executor, programId: string, severity: Severity): Promise<Webhook[]> {
  const rank = SEVERITIES.indexOf(severity);
  return (await listWebhooks(db, [programId])).filter((w) => SEVERITIES.indexOf(w.min_severity) <= rank);
}

// ---- the outbox

export async function insertNotifications(db: Executor, rows: Notification[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('notifications').values(rows).execute();
}

/** Notifications waiting for delivery (the alert_delivery_queue metric). */
export async function countPendingNotifications(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('state', '=', 'PENDING')
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Pending rows whose attempt is due and that no live worker holds, oldest due first. */
export async function dueNotifications(
  db: Executor,
  now: number,
  limit: number,
  skip: readonly string[],
): Promise<Notification[]> {
  let query = db
    .selectFrom('notifications')
    .selectAll()
    .where('state', '=', 'PENDING')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]));
  if (skip.length > 0) query = query.where('id', 'not in', skip);
  return (await query.orderBy('next_attempt_at').orderBy('id').limit(limit).execute()).map(toNotification);
}

/** Takes the row for one delivery attempt; false when another worker took it first. */
export async function leaseNotification(db: Executor, id: string, now: number, until: number): Promise<boolean> {
  const result = await db
    .updateTable('notifications')
    .set({ leased_until: until })
    .where('id', '=', id)
    .where('state', '=', 'PENDING')
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseLease(db: Executor, id: string): Promise<void> {
  await db.updateTable('notifications').set({ leased_until: null }).where('id', '=', id).execute();
}

export interface AttemptOutcome {
  attempt: DeliveryAttempt;
  state: DeliveryState;
  nextAttemptAt: number;
}

/** Records one attempt and its consequence on the row, in one transaction. */
export async function recordAttempt(db: Executor, outcome: AttemptOutcome): Promise<void> {
  const { attempt } = outcome;
  await db.insertInto('notification_attempts').values(attempt).execute();
  await db
    .updateTable('notifications')
    .set({
      state: outcome.state,
      attempts: attempt.attempt,
      next_attempt_at: outcome.nextAttemptAt,
      leased_until: null,
      last_error:
        attempt.error ??
        (attempt.status_code !== null && outcome.state !== 'DELIVERED' ? `HTTP ${attempt.status_code}` : null),
      delivered_at: outcome.state === 'DELIVERED' ? attempt.at : null,
    })
    .where('id', '=', attempt.notification_id)
    .execute();
}

export interface DeliveryFilter {
  webhookId?: string | null;
  states?: readonly DeliveryState[] | null;
  limit: number;
}

/** Newest first. */
export async function listDeliveries(db: Executor, filter: DeliveryFilter): Promise<Notification[]> {
  if (filter.states?.length === 0) return [];
  let query = db.selectFrom('notifications').selectAll();
  if (filter.webhookId) query = query.where('webhook_id', '=', filter.webhookId);
  if (filter.states) query = query.where('state', 'in', filter.states);
  return (await query.orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).execute()).map(toNotification);
}

export async function attemptsOf(db: Executor, notificationIds: readonly string[]): Promise<DeliveryAttempt[]> {
  if (notificationIds.length === 0) return [];
  const rows = await db
    .selectFrom('notification_attempts')
    .selectAll()
    .where('notification_id', 'in', notificationIds)
    .orderBy('notification_id')
    .orderBy('attempt')
    .execute();
  return rows.map(toAttempt);
}
