import { sql, type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const instant = 'bigint';

  await db.schema
    .createTable('programs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('created_at', instant, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('program_ids', 'text')
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', instant, (c) => c.notNull())
    .addColumn('revoked_at', instant)
    .execute();

  await db.schema
    .createTable('events')
    // Ids are allocated by the writer (src/db/database.ts), so no autoincrement is needed.
    .addColumn('id', postgres ? 'bigint' : 'integer', (c) => c.primaryKey())
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('value', postgres ? 'double precision' : 'real')
    .addColumn('reason', 'text')
    .addColumn('occurred_at', instant, (c) => c.notNull())
    .addColumn('recorded_at', instant, (c) => c.notNull())
    .addColumn('retracted_at', instant)
    .addColumn('idempotency_key', 'text')
    .addColumn('payload_hash', 'text')
    .addColumn('api_key_id', 'text')
    .execute();
  await db.schema.createIndex('events_program_occurred').on('events').columns(['program_id', 'occurred_at']).execute();
  await db.schema
    .createIndex('events_program_idempotency')
    .on('events')
    .columns(['program_id', 'idempotency_key'])
    .unique()
    .execute();
  if (postgres) await sql`create sequence if not exists events_id_seq owned by events.id`.execute(db);

  const real = postgres ? 'double precision' : 'real';
  await db.schema
    .createTable('rollups')
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('bucket_start', instant, (c) => c.notNull())
    .addColumn('res_count', 'integer', (c) => c.notNull())
    .addColumn('res_sum', real, (c) => c.notNull())
    .addColumn('res_hist', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('sat_count', 'integer', (c) => c.notNull())
    .addColumn('sat_sum', real, (c) => c.notNull())
    .addColumn('sat_positive', 'integer', (c) => c.notNull())
    .addColumn('conflicts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollups_pk', ['program_id', 'level', 'bucket_start'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rollups').execute();
  await db.schema.dropTable('events').ifExists().execute();
  await db.schema.dropTable('api_keys').execute();
  await db.schema.dropTable('programs').execute();
}
