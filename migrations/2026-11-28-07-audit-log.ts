import type { Kysely } from 'kysely';

/**
 * The audit log: one row per successful admin action (keys, programs, rules, targets, webhooks,
 * retractions, acknowledgements). Rows are only ever inserted.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    // Sorts in the order entries were written: zero-padded instant, then a per-process sequence.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    // The API key id, or ADMIN_API_KEY for the bootstrap key.
    .addColumn('actor', 'text', (c) => c.notNull())
    // The mutation's name, e.g. revokeApiKey.
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    // The arguments as JSON, secrets replaced.
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'id']).execute();
  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_log').execute();
}
