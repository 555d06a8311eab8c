import { sql, type Kysely, PostgresAdapter } from 'kysely';

/**
 * Rollups are derived data, rebuilt from the raw events whenever their shape changes (see
 * src/kpis/rollups-rebuild.ts): this recreates the table empty and records which shape it holds.
 *  - program_id no longer references programs: '*' holds the sum of every program.
 *  - On SQLite the table is WITHOUT ROWID, so rows are stored in primary-key order and a range of
 *    buckets is read from neighbouring pages (PostgreSQL reads it through the primary-key index).
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('rollups').execute();
  await createRollups(db, postgres);
  await db.schema
    .createTable('rollup_state')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    // The shape the rollups were built for; 0: not built yet.
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.insertInto('rollup_state').values({ id: 1, version: 0 }).execute();
}

async function createRollups(db: Kysely<any>, postgres: boolean, references = false) {
  const real = postgres ? 'double precision' : 'real';
  let table = db.schema
    .createTable('rollups')
    .addColumn('program_id', 'text', (c) => (references ? c.notNull().references('programs.id') : c.notNull()))
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('res_count', 'integer', (c) => c.notNull())
    .addColumn('res_sum', real, (c) => c.notNull())
    .addColumn('res_hist', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('sat_count', 'integer', (c) => c.notNull())
    .addColumn('sat_sum', real, (c) => c.notNull())
    .addColumn('sat_positive', 'integer', (c) => c.notNull())
    .addColumn('conflicts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollups_pk', ['program_id', 'level', 'bucket_start']);
  if (!postgres) table = table.modifyEnd(sql`without rowid`);
  await table.execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('rollup_state').execute();
  await db.schema.dropTable('rollups').execute();
  // The earlier shape, empty: the earlier code rebuilt nothing, so its rollups start from zero.
  await createRollups(db, postgres, true);
}
