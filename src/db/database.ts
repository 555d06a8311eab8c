/** Opens the database named by DATABASE_URL. Every dialect difference lives in this folder. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { readArraysDirectly } from './array-rows.js';
import { EmptyInListPlugin } from './empty-in-list.plugin.js';
import { runRowsDirectly } from '../write/insert-rows.js';
import type { Database, Executor } from './types.js';
import { WrittenRows } from '../write/written-rows.js';

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** The PostgreSQL schema the service is confined to, if DATABASE_URL names one. */
  schema: string | null;
  /** Reserves `count` new event ids inside the caller's write transaction. */
  allocateEventIds(trx: Executor, count: number): Promise<number[]>;
  /**
   * Serialises writers of the same programs until the transaction ends, so that read-modify-write
   * of rollups and idempotency checks stay exact when several instances write at once.
   */
  lockPrograms(trx: Executor, programIds: readonly string[]): Promise<void>;
  /**
   * Locks, until the transaction ends, the first of `keys` that no other transaction holds, and
   * returns it; only when every one is held does it wait, for one of them at random. Where several
   * rows may take the same sum (ALL_PROGRAMS's shards), writers that overlap write different rows
   * and never wait for one another. Never waits while holding another of these keys, so taking one
   * after lockPrograms cannot deadlock. SQLite has one writer: the first key.
   */
  lockAnyOf(trx: Executor, keys: readonly string[]): Promise<string>;
  /**
   * Rollup rows as this process last wrote them (decoded), so a commit need not read them back;
   * null where other writers may change them (PostgreSQL). See written-rows.ts for when it is sound.
   */
  writtenRollups: WrittenRows<{ footprint(): number }> | null;
  close(): Promise<void>;
}

/**
 * Memory for rollup rows kept decoded. A row of a live hour holds a few hundred histogram bins
 * (~10 KB decoded); a commit of the bench's batches touches ~630 rows (~6 MB), so this keeps
 * several commits' worth for a few dozen programs, and bounds it whatever the data.
 */
const WRITTEN_ROLLUPS_BYTES = 32 * 1024 * 1024;

/**
 * The text whose hash names a program's advisory lock. Advisory locks belong to the whole
 * database, so services confined to different schemas (tests, several deployments) each lock
 * their own programs, not each other's.
 */
export function programLockKey(schema: string | null, programId: string): string {
  return schema ? `${schema}:${programId}` : programId;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export interface OpenOptions {
  /** PostgreSQL: most connections in the pool (SQLite has one). */
  poolMax?: number;
}

export async function openDatabase(url: string, options: OpenOptions = {}): Promise<OpenDatabase> {
  return isPostgresUrl(url) ? openPostgres(url, options.poolMax ?? 10) : openSqlite(url);
}

function openSqlite(path: string): OpenDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // 16 KB pages (SQLite's default is 4 KB), set before the file's first write, so new databases
  // only (an existing file keeps its size until a VACUUM outside WAL mode). A rollup row carries a
  // histogram of 1-3 KB: in the WITHOUT ROWID table a 4 KB page keeps at most ~1 KB of a row and
  // spills the rest to an overflow page, so each rewritten row wrote two pages; at 16 KB it stays
  // in its leaf (up to ~4 KB). Batch ingestion in-process: 77k events/s at 4 KB, 90k at 16 KB.
  sqlite.pragma('page_size = 16384');
  // WAL lets readers run beside the writer; FULL makes every commit durable before it returns.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // A checkpoint copies every page the WAL holds back into the database and syncs it, on the commit
  // that crosses the limit. Rollup pages are rewritten by nearly every commit, so a longer WAL
  // (2,500 pages of 16 KB, about 40 MB, instead of SQLite's 1,000 pages) copies each of them once
  // for many commits: at 4 KB pages, a batch ingestion commit of ~1.5 MB took 28 ms on average with
  // 4 MB of WAL, 17 ms with 40 MB.
  sqlite.pragma('wal_autocheckpoint = 2500');
  // Transactions begin IMMEDIATE, taking the write lock at once, where busy_timeout waits for it.
  // A plain BEGIN reads first and upgrades at its first write; if another process (a second
  // instance on this file) wrote meanwhile, SQLite answers SQLITE_BUSY at once, without waiting.
  // Each SQL text is prepared once: Kysely asks anew for every query, and preparing cost more than
  // running most of them. Safe to reuse, as Kysely runs one statement at a time on this connection.
  const statements = new Map<string, SqliteStatement>();
  const writtenRollups = new WrittenRows<{ footprint(): number }>(WRITTEN_ROLLUPS_BYTES, (row) => row.footprint());
  // What PRAGMA data_version said at the last check: it changes when another connection commits.
  let dataVersion = -1;
  const immediate = {
    prepare(query: string) {
      let statement = statements.get(query);
      if (!statement) {
        if (statements.size >= 1_000) statements.clear();
        statement = sqlite.prepare(query === 'begin' ? 'begin immediate' : query);
        if (query === 'begin') statement = afterRun(statement, checkWriters);
        else if (/^rollback/i.test(query)) statement = afterRun(statement, () => writtenRollups.clear());
        statements.set(query, statement);
      }
      return statement;
    },
    close: () => sqlite.close(),
  };
  /** Run holding the write lock: rows another connection committed since may differ from ours. */
  function checkWriters() {
    const version = sqlite.pragma('data_version', { simple: true }) as number;
    if (version !== dataVersion) writtenRollups.clear();
    dataVersion = version;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: immediate }) });
  runRowsDirectly(db.getExecutor().adapter, immediate.prepare);
  // Raw mode belongs to the statement, so these are prepared apart from the cache Kysely uses.
  const arrayStatements = new Map<string, SQLite.Statement>();
  readArraysDirectly(db.getExecutor().adapter, (query) => {
    let statement = arrayStatements.get(query);
    if (!statement) {
      if (arrayStatements.size >= 100) arrayStatements.clear();
      statement = sqlite.prepare(query).raw(true);
      arrayStatements.set(query, statement);
    }
    const prepared = statement;
    return {
      all: (parameters) => prepared.all(parameters) as unknown[][],
      iterate: (parameters) => prepared.iterate(parameters) as IterableIterator<unknown[]>,
    };
  });
  return {
    db,
    dialect: 'sqlite',
    schema: null,
    // SQLite has one writer at a time, so inside a write transaction max(id) cannot move.
    async allocateEventIds(trx, count) {
      const row = await trx
        .selectFrom('events')
        .select((eb) => eb.fn.max('id').as('max'))
        .executeTakeFirst();
      const first = Number(row?.max ?? 0) + 1;
      return Array.from({ length: count }, (_, i) => first + i);
    },
    lockPrograms: async () => {},
    lockAnyOf: async (_trx, keys) => keys[0],
    writtenRollups,
    close: () => db.destroy(),
  };
}

/** The statement, calling `then` after each run that succeeds. */
function afterRun(statement: SqliteStatement, then: () => void): SqliteStatement {
  return {
    reader: statement.reader,
    run: (parameters) => {
      const result = statement.run(parameters);
      then();
      return result;
    },
    all: (parameters) => statement.all(parameters),
    iterate: (parameters) => statement.iterate(parameters),
  };
}

/** int8 (bigint) columns hold epoch milliseconds and counts: all well inside 2^53. */
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * `postgres://…?schema=NAME` confines the service to one schema (created when missing), so that
 * tests, or several deployments, can share one database.
 */
async function openPostgres(url: string, poolMax: number): Promise<OpenDatabase> {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error('the schema parameter of DATABASE_URL must be a lower-case SQL identifier');
  }
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: poolMax,
    types,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), plugins: [new EmptyInListPlugin()] });
  if (schema) {
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    } catch (error) {
      // Instances starting together may both create it: "if not exists" is not atomic in PostgreSQL.
      if ((error as { code?: string }).code !== '23505') throw error;
    }
  }
  return {
    db,
    dialect: 'postgres',
    schema,
    async allocateEventIds(trx, count) {
      const { rows } = await sql<{
        id: number;
      }>`select nextval('events_id_seq') as id from generate_series(1, ${count})`.execute(trx);
      return rows.map((r) => Number(r.id));
    },
    async lockPrograms(trx, programIds) {
      // Sorted, so two writers of overlapping programs take the locks in one order and never deadlock.
      for (const id of [...new Set(programIds)].sort()) {
        await sql`select pg_advisory_xact_lock(hashtext(${programLockKey(schema, id)}))`.execute(trx);
      }
    },
    async lockAnyOf(trx, keys) {
      // One try per key, in order (a single statement could try more than it takes: PostgreSQL's
      // docs warn that LIMIT does not bound which rows a locking function is evaluated for).
      for (const key of keys) {
        const { rows } = await sql<{
          locked: boolean;
        }>`select pg_try_advisory_xact_lock(hashtext(${programLockKey(schema, key)})) as locked`.execute(trx);
        if (rows[0].locked) return key;
      }
      const key = keys[Math.floor(Math.random() * keys.length)];
      await sql`select pg_advisory_xact_lock(hashtext(${programLockKey(schema, key)}))`.execute(trx);
      return key;
    },
    writtenRollups: null,
    close: () => db.destroy(),
  };
}
