import { sql, type Kysely, PostgresAdapter } from 'kysely';

/**
 * Rollup sums become exact (src/kpis/exact-sum.ts): res_sum and sat_sum hold the parts of a
 * floating-point expansion as bytes, and res_squares and sat_squares the sums of squares beside
 * them. Rollups are derived data: the table is recreated empty and marked unbuilt, so the start-up
 * rebuild (src/kpis/rollups-rebuild.ts) refills it from the raw events, with every bucket keyed by
 * the bucket rule of this version.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('rollups').execute();
  await createRollups(db, postgres, true);
  await db.updateTable('rollup_state').set({ version: 0 }).execute();
}

async function createRollups(db: Kysely<any>, postgres: boolean, exact: boolean) {
  const blob = postgres ? 'bytea' : 'blob';
  const sum = exact ? blob : postgres ? 'double precision' : 'real';
  let table = db.schema
    .createTable('rollups')
    .addColumn('program_id', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('res_count', 'integer', (c) => c.notNull())
    .addColumn('res_sum', sum, (c) => c.notNull());
  if (exact) table = table.addColumn('res_squares', blob, (c) => c.notNull());
  table = table
    .addColumn('res_hist', blob, (c) => c.notNull())
    .addColumn('sat_count', 'integer', (c) => c.notNull())
    .addColumn('sat_sum', sum, (c) => c.notNull());
  if (exact) table = table.addColumn('sat_squares', blob, (c) => c.notNull());
  table = table
    .addColumn('sat_positive', 'integer', (c) => c.notNull())
    .addColumn('conflicts', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollups_pk', ['program_id', 'level', 'bucket_start']);
  if (!postgres) table = table.modifyEnd(sql`without rowid`);
  await table.execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('rollups').execute();
  await createRollups(db, postgres, false);
  await db.updateTable('rollup_state').set({ version: 0 }).execute();
}
