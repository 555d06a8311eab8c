import { randomBytes } from 'node:crypto';
import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Drill-down (issue 19): `events(…)` pages through one program's events by keyset, so each page
 * is an index range that starts at its cursor, and the 1,000th page costs what the first does.
 *  - by time: (program_id, occurred_at, id). On SQLite the id is the rowid, which every index
 *    entry already ends with, so the index of the first migration serves; PostgreSQL needs it named.
 *  - by value: (program_id, kind, value, id), one kind at a time (values of different kinds are
 *    merged page by page, src/events/event-list.ts).
 *  - by case: (program_id, case_id, occurred_at, id), so "the events of case X" reads only those.
 *  - server_secrets: the key that signs cursors, made once here and shared by every instance on
 *    the database, so a cursor survives a restart and cannot be forged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const withId = (columns: string[]) => (postgres ? [...columns, 'id'] : columns);
  if (postgres) {
    await db.schema.dropIndex('events_program_occurred').execute();
    await db.schema
      .createIndex('events_program_occurred')
      .on('events')
      .columns(['program_id', 'occurred_at', 'id'])
      .execute();
  }
  await db.schema
    .createIndex('events_program_kind_value')
    .on('events')
    .columns(withId(['program_id', 'kind', 'value']))
    .execute();
  await db.schema
    .createIndex('events_program_case')
    .on('events')
    .columns(withId(['program_id', 'case_id', 'occurred_at']))
    .execute();
  await db.schema
    .createTable('server_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('secret', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('server_secrets')
    .values({ name: 'cursor', secret: randomBytes(32).toString('base64url') })
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('server_secrets').execute();
  await db.schema.dropIndex('events_program_case').execute();
  await db.schema.dropIndex('events_program_kind_value').execute();
  if (postgres) {
    await db.schema.dropIndex('events_program_occurred').execute();
    await db.schema
      .createIndex('events_program_occurred')
      .on('events')
      .columns(['program_id', 'occurred_at'])
      .execute();
  }
}
