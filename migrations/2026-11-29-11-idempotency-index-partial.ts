import { sql, type Kysely } from 'kysely';

/**
 * The idempotency index holds only events that carry a key. Most events carry none, and each
 * null entry sat at the end of its program's run of the index: a commit of events for twenty
 * programs rewrote twenty index pages for entries no lookup ever reads. Lookups name a key
 * (`idempotency_key IN (…)`), which implies IS NOT NULL, so SQLite and PostgreSQL use the partial
 * index for them, and it still refuses a second event with the same key in a program.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_program_idempotency').execute();
  await db.schema
    .createIndex('events_program_idempotency')
    .on('events')
    .columns(['program_id', 'idempotency_key'])
    .unique()
    .where(sql.ref('idempotency_key'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_program_idempotency').execute();
  await db.schema
    .createIndex('events_program_idempotency')
    .on('events')
    .columns(['program_id', 'idempotency_key'])
    .unique()
    .execute();
}
