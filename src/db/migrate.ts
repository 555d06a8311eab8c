/** Applies the date-prefixed migrations in /migrations, in order. */
import { Migrator, type Kysely } from 'kysely';
import { migrations } from '../../migrations/index.js';

export function migrator(db: Kysely<any>, schema: string | null = null): Migrator {
  return new Migrator({
    db,
    // Imported statically, so migrations load the same way under tsx, vitest and a bundler.
    provider: { getMigrations: async () => migrations },
    // Kysely looks for its bookkeeping tables in every schema unless told which one is ours.
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

export async function migrateToLatest(database: { db: Kysely<any>; schema: string | null }): Promise<void> {
  const { error, results } = await migrator(database.db, database.schema).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`.trim());
  }
}
