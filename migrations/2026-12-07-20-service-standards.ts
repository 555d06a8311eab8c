import type { Kysely } from 'kysely';

/**
 * Service standards and early warnings (issue 20).
 *  - programs.resolution_standard_days: the service standard in days; null: none.
 *  - rollups.res_within / res_judged: resolution times within their program's standard, and those
 *    judged against one (a program without a standard judges none), so WITHIN_STANDARD is exact.
 *    ROLLUP_VERSION 8 fills them from the raw events at start-up.
 *  - alert_rules.kind: THRESHOLD (the KPI over the window) or TARGET_AT_RISK (each running target's
 *    probability of being met).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('programs').addColumn('resolution_standard_days', 'double precision').execute();
  await db.schema
    .alterTable('rollups')
    .addColumn('res_within', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('rollups')
    .addColumn('res_judged', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('alert_rules')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('THRESHOLD'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('alert_rules').dropColumn('kind').execute();
  await db.schema.alterTable('rollups').dropColumn('res_judged').execute();
  await db.schema.alterTable('rollups').dropColumn('res_within').execute();
  await db.schema.alterTable('programs').dropColumn('resolution_standard_days').execute();
}
