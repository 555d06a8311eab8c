/** Applies the date-prefixed migrations in /migrations, in order. */
import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Kysely } from 'kysely';
import { migrations } from '../../migrations/index.js';

interface MigratedDatabase {
  db: Kysely<any>;
  schema: string | null;
}

export function migrator(db: Kysely<any>, schema: string | null = null): Migrator {
  return new Migrator({
    db,
    // Imported statically, so migrations load the same way under tsx, vitest and a bundler.
    provider: { getMigrations: async () => migrations },
    // Names carry their issue's number, and issues land in any order: a database migrated before
    // an earlier-numbered migration landed takes it when it comes (each is independent of the others').
    allowUnorderedMigrations: true,
    // Kysely looks for its bookkeeping tables in every schema unless told which one is ours.
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/** A database that a newer version of the service has migrated: this code must not touch it. */
export class NewerDatabaseError extends Error {}

/** The refusal of such a database, at start and at restore (src/db/backup.ts) alike. */
export function newerDatabase(unknown: string[]): NewerDatabaseError {
  return new NewerDatabaseError(
    `the database was migrated by a newer version of this service (migrations this version does not know: ${[...unknown].sort().join(', ')}); ` +
      'refusing to start: run the newer version, or restore a backup taken before it ran',
  );
}

export interface MigrationStatus {
  /** Migrations this code knows and the database has not had yet. */
  pending: string[];
  /** Migrations the database has had that this code does not know: a newer version ran them. */
  unknown: string[];
}

export async function migrationStatus({ db, schema }: MigratedDatabase): Promise<MigrationStatus> {
  const table = schema ? sql.table(`${schema}.${DEFAULT_MIGRATION_TABLE}`) : sql.table(DEFAULT_MIGRATION_TABLE);
  let applied: string[];
  try {
    applied = (await sql<{ name: string }>`select name from ${table}`.execute(db)).rows.map((r) => r.name);
  } catch (error) {
    // A fresh database has no bookkeeping table yet; anything else is a real fault.
    if (!/no such table|does not exist/i.test(String((error as Error).message))) throw error;
    applied = [];
  }
  const known = Object.keys(migrations);
  return {
    pending: known.filter((name) => !applied.includes(name)),
    unknown: applied.filter((name) => !known.includes(name)),
  };
}

export async function migrateToLatest(database: MigratedDatabase): Promise<void> {
  // Refused before anything runs: older code would misread (or write wrongly into) a newer schema.
  const { unknown } = await migrationStatus(database);
  if (unknown.length > 0) throw newerDatabase(unknown);
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator(database.db, database.schema).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return;
    const reason = error instanceof Error ? error.message : String(error ?? '');
    // Kysely's migrator lists the tables of every schema; on PostgreSQL that listing fails when
    // another schema of the database (a test's, another deployment's), or a table of it, is dropped
    // meanwhile. The migrator checks again what is applied, so trying again is safe.
    if (!failed && attempt < 5 && isOtherSchemaGone(reason, database.schema)) continue;
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${reason}`.trim());
  }
}

/** The listing failed on a schema, or on a table of a schema, that is not ours and went away meanwhile. */
function isOtherSchemaGone(reason: string, ours: string | null): boolean {
  const gone =
    /schema "([^"]+)" does not exist/.exec(reason)?.[1] ??
    /relation "([^".]+)\.[^"]+" does not exist/.exec(reason)?.[1];
  return gone !== undefined && gone !== ours;
}
