/** Opens the database named by DATABASE_URL. Every dialect difference lives in this folder. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database, Executor } from './types.js';

export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
  /** Reserves `count` consecutive event ids inside the caller's transaction. */
  allocateEventIds(trx: Executor, count: number): Promise<number>;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export function openDatabase(url: string): OpenDatabase {
  if (isPostgresUrl(url)) throw new Error('PostgreSQL support is not built yet; use a SQLite path');
  return openSqlite(url);
}

function openSqlite(path: string): OpenDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers run beside the writer; FULL makes every commit durable before it returns.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    // SQLite has one writer at a time, so inside a write transaction max(id) cannot move.
    async allocateEventIds(trx, count) {
      const row = await trx
        .selectFrom('events')
        .select((eb) => eb.fn.max('id').as('max'))
        .executeTakeFirst();
      void count;
      return Number(row?.max ?? 0) + 1;
    },
    close: () => db.destroy(),
  };
}
