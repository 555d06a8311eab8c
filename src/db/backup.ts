/**
 * Backups of the embedded SQLite database (`npm run backup -- FILE`, `npm run restore -- FILE`).
 *
 * A backup is SQLite's online backup API (better-sqlite3's db.backup) from a read-only connection
 * of its own: the service keeps writing meanwhile, batches from its writer thread included. After a
 * first short step, the rest is copied in one step, so the copy is one read transaction's snapshot:
 * every commit acknowledged before the backup began is in it. (Copied a little at a time, a backup
 * starts over whenever another connection writes, and under steady writes might never end.)
 * The copy is written beside its destination, checked (`PRAGMA integrity_check`), turned into a
 * single self-contained file (journal_mode DELETE), synced, and only then renamed into place: a
 * failed backup leaves no file, and the live database is only ever read.
 *
 * A restore checks the backup the same way, refuses one made by a newer version of the service
 * (the migrations' own refusal), and copies it into DATABASE_URL with the same API, so SQLite
 * replaces the pages (and the live file's write-ahead log) under its own locks. The service must be
 * stopped while it runs: a running instance would keep what it holds in memory (rollup caches,
 * live scopes) of the database it had.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { isPostgresUrl } from './database.js';
import { migrationStatus, newerDatabase } from './migrate.js';

export class BackupError extends Error {}

export interface BackupResult {
  file: string;
  bytes: number;
  /** Events in the copy (retracted ones included). */
  events: number;
  ms: number;
}

/** Pages per step once the first step has shown how large the database is: all of them. */
const ALL_AT_ONCE = 2 ** 31 - 1;

export async function backupDatabase(databaseUrl: string, destination: string): Promise<BackupResult> {
  if (isPostgresUrl(databaseUrl))
    throw new BackupError(
      'DATABASE_URL is PostgreSQL: back it up with pg_dump or point-in-time recovery (docs/DEPLOYMENT.md, "Backups")',
    );
  if (databaseUrl === ':memory:')
    throw new BackupError('DATABASE_URL is :memory:: there is nothing on disk to back up');
  const started = Date.now();
  const target = path.resolve(destination);
  if (target === path.resolve(databaseUrl)) throw new BackupError('the backup may not overwrite the live database');
  const partial = `${target}.partial-${process.pid}`;
  const source = openReadOnly(databaseUrl, 'the database');
  try {
    try {
      await source.backup(partial, { progress: () => ALL_AT_ONCE });
    } catch (error) {
      throw new BackupError(`cannot write the backup to ${target}: ${reason(error)}`);
    }
    const events = check(partial, `the backup written to ${partial}`, (copy) => {
      // One file that needs nothing beside it, whatever mode the live database is in.
      copy.pragma('journal_mode = DELETE');
    });
    syncFile(partial);
    renameSync(partial, target);
    syncFile(path.dirname(target));
    return { file: target, bytes: statSync(target).size, events, ms: Date.now() - started };
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  } finally {
    source.close();
  }
}

export interface RestoreResult {
  file: string;
  events: number;
  /** Migrations the backup has not had: the service applies them when it starts. */
  pending: string[];
}

export async function restoreDatabase(backupFile: string, databaseUrl: string): Promise<RestoreResult> {
  if (isPostgresUrl(databaseUrl))
    throw new BackupError('DATABASE_URL is PostgreSQL: restore it with pg_restore (docs/DEPLOYMENT.md, "Backups")');
  const events = check(backupFile, `the backup ${backupFile}`);
  const { pending } = await refuseNewer(backupFile);
  const backup = openReadOnly(backupFile, 'the backup');
  try {
    await backup.backup(path.resolve(databaseUrl), { progress: () => ALL_AT_ONCE });
  } catch (error) {
    throw new BackupError(`cannot restore into ${databaseUrl}: ${reason(error)}`);
  } finally {
    backup.close();
  }
  return { file: path.resolve(databaseUrl), events, pending };
}

/** The service's own refusal of a database migrated by a newer version (src/db/migrate.ts), word for word. */
async function refuseNewer(file: string) {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: openReadOnly(file, 'the backup') }) });
  try {
    const status = await migrationStatus({ db, schema: null });
    if (status.unknown.length > 0) throw newerDatabase(status.unknown);
    return status;
  } finally {
    await db.destroy();
  }
}

function openReadOnly(file: string, what: string): SQLite.Database {
  try {
    return new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new BackupError(`cannot open ${what} ${file}: ${reason(error)}`);
  }
}

/** integrity_check, and that it is this service's database; returns its event count. */
function check(file: string, what: string, then?: (db: SQLite.Database) => void): number {
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { fileMustExist: true, readonly: then === undefined });
  } catch (error) {
    throw new BackupError(`cannot open ${what}: ${reason(error)}`);
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') throw new BackupError(`${what} failed its integrity check: ${integrity}`);
    let events: number;
    try {
      events = (db.prepare('select count(*) as n from events').get() as { n: number }).n;
    } catch {
      throw new BackupError(`${what} is not a database of this service (it has no events table)`);
    }
    then?.(db);
    return events;
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`cannot check ${what}: ${reason(error)}`);
  } finally {
    db.close();
  }
}

function syncFile(file: string) {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
