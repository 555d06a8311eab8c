import type { Kysely } from 'kysely';

/**
 * Annotations (issue 21): a change marked in a program at an instant (a new form, a staffing
 * change). Deleting one removes its row; dashboards list a program's annotations by instant.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('annotations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('program_id', 'text', (c) => c.notNull().references('programs.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('annotations_program_at').on('annotations').columns(['program_id', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('annotations').execute();
}
