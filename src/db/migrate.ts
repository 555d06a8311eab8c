/** Applies the date-prefixed migrations in /migrations, in order. */
import { Migrator, type Kysely } from 'kysely';
import { migrations } from '../../migrations/index.js';

export function migrator(db: Kysely<any>): Migrator {
  // Imported statically, so migrations load the same way under tsx, vitest and a bundler.
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const { error, results } = await migrator(db).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? '');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`.trim());
  }
}
