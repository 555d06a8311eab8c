/**
 * Alerts: rules, alerts with their history, webhooks, and the notification outbox with its
 * delivery attempts. Seeds the default rule of the brief.
 */
import { type Kysely, PostgresAdapter } from 'kysely';

export const DEFAULT_RULE_ID = 'default-avg-resolution-time';

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const instant = 'bigint';
  const real = postgres ? 'double precision' : 'real';

  await db.schema
    .createTable('alert_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // Null: every program, each judged on its own.
    .addColumn('program_id', 'text', (c) => c.references('programs.id'))
    .addColumn('kpi', 'text', (c) => c.notNull())
    .addColumn('comparator', 'text', (c) => c.notNull())
    .addColumn('threshold', real, (c) => c.notNull())
    .addColumn('window_days', 'integer', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('for_minutes', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('recovery_threshold', real)
    // 1 or 0: an integer reads the same on SQLite and PostgreSQL.
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('updated_at', instant, (c) => c.notNull())
    // Rules are deleted softly, so the alerts they raised keep their rule and history.
    .addColumn('deleted_at', instant)
    .execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule_id', 'text', (c) => c.notNull().references('alert_rules.id'))
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('value', real, (c) => c.notNull())
    .addColumn('threshold', real, (c) => c.notNull())
    .addColumn('started_at', instant, (c) => c.notNull())
    .addColumn('fired_at', instant)
    .addColumn('resolved_at', instant)
    .addColumn('acknowledged_at', instant)
    .addColumn('acknowledged_by', 'text')
    // 'open' while PENDING or FIRING, null once RESOLVED. NULLs never collide in a unique index
    // (on SQLite and PostgreSQL alike), so the index below allows one open alert per rule and
    // program and any number of resolved ones: the database, not the code, keeps that promise.
    .addColumn('open_key', 'text')
    // Bumped by every change; a writer that read an older version changes nothing.
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('alerts_one_open')
    .on('alerts')
    .columns(['rule_id', 'program_id', 'open_key'])
    .unique()
    .execute();
  await db.schema.createIndex('alerts_program_started').on('alerts').columns(['program_id', 'started_at']).execute();

  await db.schema
    .createTable('alert_history')
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('value', real, (c) => c.notNull())
    .addColumn('threshold', real, (c) => c.notNull())
    .addColumn('at', instant, (c) => c.notNull())
    .addColumn('cause', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addPrimaryKeyConstraint('alert_history_pk', ['alert_id', 'version'])
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    // Kept in clear: every request is signed with it.
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('program_id', 'text', (c) => c.references('programs.id'))
    .addColumn('min_severity', 'text', (c) => c.notNull())
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('deleted_at', instant)
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // One per transition, the same for every webhook and every retry: receivers dedupe on it.
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id'))
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', instant, (c) => c.notNull())
    // A worker holds a row until then while it delivers; a crashed worker's lease simply expires.
    .addColumn('leased_until', instant)
    .addColumn('last_error', 'text')
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('delivered_at', instant)
    .execute();
  await db.schema
    .createIndex('notifications_event_webhook')
    .on('notifications')
    .columns(['event_id', 'webhook_id'])
    .unique()
    .execute();
  await db.schema.createIndex('notifications_due').on('notifications').columns(['state', 'next_attempt_at']).execute();

  await db.schema
    .createTable('notification_attempts')
    .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', instant, (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('notification_attempts_pk', ['notification_id', 'attempt'])
    .execute();

  const now = Date.now();
  await db
    .insertInto('alert_rules')
    .values({
      id: DEFAULT_RULE_ID,
      name: 'Average resolution time over 30 days above 7 days',
      program_id: null,
      kpi: 'AVG_RESOLUTION_TIME',
      comparator: 'GT',
      threshold: 7,
      window_days: 30,
      severity: 'WARNING',
      for_minutes: 0,
      recovery_threshold: null,
      enabled: 1,
      created_at: now,
      updated_at: now,
      deleted_at: null,
    })
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_attempts').execute();
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('webhooks').execute();
  await db.schema.dropTable('alert_history').execute();
  await db.schema.dropTable('alerts').execute();
  await db.schema.dropTable('alert_rules').execute();
}
