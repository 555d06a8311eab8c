import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Rollup rows keep the KPIs their sums and histogram answer (src/kpis/row-answers.ts), so a series
 * point that is one stored row is read without them. Rollups are derived data: the columns come
 * empty, and the start-up rebuild (src/kpis/rollups-rebuild.ts, version 9) fills every row.
 */
const COLUMNS = ['res_mean', 'res_p50', 'res_p90', 'sat_mean'];

export async function up(db: Kysely<any>): Promise<void> {
  const real = db.getExecutor().adapter instanceof PostgresAdapter ? 'double precision' : 'real';
  for (const column of COLUMNS) await db.schema.alterTable('rollups').addColumn(column, real).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of COLUMNS) await db.schema.alterTable('rollups').dropColumn(column).execute();
}
