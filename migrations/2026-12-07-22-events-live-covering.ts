import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * A combination of attribute filters (issue 18) reads one program's live events in a range and
 * tests their attributes (kpi.service.ts, readLiveEvents). Through events_program_occurred every
 * row in range costs a lookup in the table, where one program's rows lie among every other
 * program's: a one-year read at 10M events looked up ~390,000 rows. This index holds all that read
 * selects, in (program, time) order, so it is one range scan of the index alone (bench/read-paths.ts
 * at 10M: 929 -> 248 ms of CPU per two-dimension dashboard). Partial, live events only, as the read
 * is. It does not replace events_program_occurred: keyset pages need retracted events too.
 *
 * The price is one more index entry per event written (measured in the notes of issue 18), and
 * building it on an existing database at migration (about 30 s at 10M events).
 *
 * SQLite only: PostgreSQL refuses an index entry over ~2.7 KB, and an event's attributes may be
 * longer (8 values of up to 128 characters), so there a record would fail where it succeeds today.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create index events_program_live on events (program_id, occurred_at, kind, value, attributes) where retracted_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await db.schema.dropIndex('events_program_live').execute();
}
