/**
 * Where write transactions of events run. PostgreSQL's driver already waits off the event loop,
 * so it writes in-process. A SQLite commit (better-sqlite3 is synchronous) holds the thread that
 * runs it for the inserts, the rollups and the fsync; a SQLite file therefore gets a writer thread
 * of its own (writer-thread.ts), so that HTTP, GraphQL and validation of the next mutations run on
 * the other core meanwhile. An in-memory database cannot be opened twice and stays in-process.
 */
import type { OpenDatabase } from '../db/database.js';
import { isPostgresUrl } from '../db/database.js';
import { KnownPrograms } from '../programs/known-programs.js';
import { ThreadWriter } from './writer-thread.js';
import { writeUnits, type UnitInput, type Written } from './write-units.js';

export interface EventWriter {
  /**
   * How many groups of units it may be handed before the first is answered: one in-process; any
   * number for the writer thread, which merges the groups waiting for it into one transaction and
   * starts it the moment the last one ends, whatever this thread is busy with.
   */
  readonly depth: number;
  /** Writes the units in one transaction; resolves after the commit. Rejects when the transaction as a whole fails. */
  write(units: UnitInput[], now: number): Promise<Written>;
  close(): Promise<void>;
}

export function inProcessWriter(database: OpenDatabase, programs = new KnownPrograms()): EventWriter {
  return {
    depth: 1,
    write: (units, now) => database.db.transaction().execute((trx) => writeUnits(database, programs, trx, units, now)),
    close: async () => {},
  };
}

export function openEventWriter(databaseUrl: string, database: OpenDatabase): EventWriter {
  if (isPostgresUrl(databaseUrl) || databaseUrl === ':memory:') return inProcessWriter(database);
  return new ThreadWriter(databaseUrl);
}
