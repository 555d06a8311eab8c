import { type Kysely, PostgresAdapter } from 'kysely';

/**
 * Rollup rows keep the KPIs their sums and histogram answer (src/kpis/row-answers.ts), so a series
 * point that is one stored row is read without them. Rollups are derived data: the column comes
 * empty, and the start-up rebuild (src/kpis/rollups-rebuild.ts, version 9) fills every row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema.alterTable('rollups').addColumn('answers', blob).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rollups').dropColumn('answers').execute();
}
