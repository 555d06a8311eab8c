/**
 * Where write transactions of events run (see index.ts for the whole path). PostgreSQL's driver
 * already waits off the event loop, so it writes in-process. A SQLite commit (better-sqlite3 is
 * synchronous) holds the thread that runs it for the inserts, the rollups and the fsync: small
 * commits run in the service's thread all the same, large ones in a writer thread of its own
 * (writer-thread.ts, started with the first), so that HTTP, GraphQL and validation of the next
 * mutations run on the other core meanwhile. An in-memory database cannot be opened twice and
 * stays in-process.
 */
import type { OpenDatabase } from '../db/database.js';
import { isPostgresUrl } from '../db/database.js';
import { ThreadWriter } from './writer-thread.js';
import { writeSpooled, type SpooledOutcome, type SpooledWrite } from './spooled-write.js';
import { writeUnits, type ProgramZones, type UnitInput, type Written } from './write-units.js';

export interface EventWriter {
  /**
   * How many groups of units it may be handed before the first is answered: one in-process; any
   * number for the writer thread, which merges the groups waiting for it into one transaction and
   * starts it the moment the last one ends, whatever this thread is busy with.
   */
  readonly depth: number;
  /**
   * Writes the units in one transaction; resolves after the commit. Rejects when the transaction
   * as a whole fails. `zones` holds every program of the units that exists.
   */
  write(units: UnitInput[], zones: ProgramZones, now: number): Promise<Written>;
  /** Writes a whole spool in one transaction of its own (spooled-write.ts): an atomic import or a dry run. */
  writeSpooled(request: SpooledWrite): Promise<SpooledOutcome>;
  close(): Promise<void>;
}

export function inProcessWriter(database: OpenDatabase): EventWriter {
  return {
    depth: 1,
    write: (units, zones, now) =>
      database.db.transaction().execute((trx) => writeUnits(database, trx, units, zones, now)),
    writeSpooled: (request) => writeSpooled(database, request),
    close: async () => {},
  };
}

/** `thread` false (SQLITE_WRITER_THREAD=off) keeps every commit of a SQLite file in-process too. */
export function openEventWriter(databaseUrl: string, database: OpenDatabase, thread = true): EventWriter {
  if (isPostgresUrl(databaseUrl) || databaseUrl === ':memory:' || !thread) return inProcessWriter(database);
  return new SqliteFileWriter(inProcessWriter(database), new ThreadWriter(databaseUrl));
}

/**
 * Most events a commit may hold to run in the service's thread. Single mutations arrive in groups
 * of tens; for those, a message each way and a thread to wake cost more than the commit itself,
 * and while their clients wait this thread has nothing else to do (bench, 50 clients: 0.58x the
 * bare yoga server through the writer thread, 0.61-0.72x here). A group this size holds the thread
 * for a few milliseconds at most; a batch of 1,000 would hold it for tens.
 */
export const LOCAL_COMMIT_MAX_EVENTS = 100;

/**
 * A SQLite file's writer: each group where it is cheaper (above), one transaction at a time across
 * both connections. A group is written here only when the writer thread has nothing in flight, so
 * this thread never waits for the file's write lock; while it is written, depth is 1 and the
 * Recorder gathers the next group meanwhile.
 */
export class SqliteFileWriter implements EventWriter {
  private writingHere = false;
  private threadWrites = 0;
  /** Groups written so far in this thread and in the writer thread. */
  groupsHere = 0;
  groupsInThread = 0;

  constructor(
    private readonly here: EventWriter,
    private readonly thread: EventWriter,
  ) {}

  get depth(): number {
    return this.writingHere ? 1 : this.thread.depth;
  }

  async write(units: UnitInput[], zones: ProgramZones, now: number): Promise<Written> {
    if (this.writingHere)
      throw new Error('SqliteFileWriter: handed a group while one is written in-process (depth is 1)');
    let events = 0;
    for (const unit of units) events += unit.events.length;
    if (events <= LOCAL_COMMIT_MAX_EVENTS && this.threadWrites === 0) {
      this.writingHere = true;
      this.groupsHere++;
      try {
        return await this.here.write(units, zones, now);
      } finally {
        this.writingHere = false;
      }
    }
    this.threadWrites++;
    this.groupsInThread++;
    try {
      return await this.thread.write(units, zones, now);
    } finally {
      this.threadWrites--;
    }
  }

  /** Always in the writer thread, and counted there, so no group is written here meanwhile. */
  async writeSpooled(request: SpooledWrite): Promise<SpooledOutcome> {
    if (this.writingHere)
      throw new Error('SqliteFileWriter: handed a spool while a group is written in-process (depth is 1)');
    this.threadWrites++;
    try {
      return await this.thread.writeSpooled(request);
    } finally {
      this.threadWrites--;
    }
  }

  async close(): Promise<void> {
    await this.thread.close();
    await this.here.close();
  }
}
