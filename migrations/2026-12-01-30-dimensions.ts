import type { Kysely } from 'kysely';

/**
 * Dimensions (issue 18): a program's declared attributes and the values seen of each, the
 * attributes of every event, and the filter (and grouping) of targets and alert rules.
 *  - dimension_values holds each distinct value once; value_count in dimensions is its count, read
 *    and bumped in the write transaction that adds a value, so the maxValues bound is exact.
 *  - events.attributes: the event's attributes as canonical JSON (keys sorted), null for none.
 *  - targets and alert_rules keep their filter as canonical JSON ('' for none), so a target is
 *    unique per program, KPI, period and filter, whatever order the filter was given in.
 *  - alerts.group_key ('' for an ungrouped rule) joins the one-open-alert index: one open alert
 *    per rule, program and value. group_value is the same value, null when ungrouped.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dimensions')
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('dim_key', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('max_values', 'integer', (c) => c.notNull())
    .addColumn('value_count', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('dimensions_pk', ['program_id', 'dim_key'])
    .execute();
  await db.schema
    .createTable('dimension_values')
    .addColumn('program_id', 'text', (c) => c.notNull())
    .addColumn('dim_key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('dimension_values_pk', ['program_id', 'dim_key', 'value'])
    .execute();
  await db.schema.alterTable('events').addColumn('attributes', 'text').execute();

  await db.schema
    .alterTable('targets')
    .addColumn('filter', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.dropIndex('targets_program_kpi_period').execute();
  await db.schema
    .createIndex('targets_program_kpi_period')
    .on('targets')
    .columns(['program_id', 'kpi', 'starts_at', 'ends_at', 'filter'])
    .unique()
    .execute();

  await db.schema
    .alterTable('alert_rules')
    .addColumn('filter', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('alert_rules').addColumn('group_by', 'text').execute();
  await db.schema
    .alterTable('alerts')
    .addColumn('group_key', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.dropIndex('alerts_one_open').execute();
  await db.schema
    .createIndex('alerts_one_open')
    .on('alerts')
    .columns(['rule_id', 'program_id', 'group_key', 'open_key'])
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('alerts_one_open').execute();
  await db.schema.alterTable('alerts').dropColumn('group_key').execute();
  await db.schema
    .createIndex('alerts_one_open')
    .on('alerts')
    .columns(['rule_id', 'program_id', 'open_key'])
    .unique()
    .execute();
  await db.schema.alterTable('alert_rules').dropColumn('group_by').execute();
  await db.schema.alterTable('alert_rules').dropColumn('filter').execute();
  await db.schema.dropIndex('targets_program_kpi_period').execute();
  await db.schema.alterTable('targets').dropColumn('filter').execute();
  await db.schema
    .createIndex('targets_program_kpi_period')
    .on('targets')
    .columns(['program_id', 'kpi', 'starts_at', 'ends_at'])
    .unique()
    .execute();
  await db.schema.alterTable('events').dropColumn('attributes').execute();
  await db.schema.dropTable('dimension_values').execute();
  await db.schema.dropTable('dimensions').execute();
}
