/**
 * Rows as arrays of their values, in the order the query selects them: for reads of a million
 * rows (exports), where an object per row cost most of the read. On SQLite better-sqlite3 returns
 * arrays itself (raw mode): a page of 2,000 events read 2.5x faster than as objects. PostgreSQL's
 * rows come back as objects (Kysely's pg driver) and are turned into arrays here.
 */
import type { Compilable, DialectAdapter } from 'kysely';
import type { Executor } from './types.js';

/** A prepared statement in raw mode: each row an array. */
export interface ArrayStatement {
  all(parameters: readonly unknown[]): unknown[][];
  iterate(parameters: readonly unknown[]): IterableIterator<unknown[]>;
}

const direct = new WeakMap<DialectAdapter, (sql: string) => ArrayStatement>();

/** SQLite only: how to prepare a raw-mode statement on the connection of the Kysely with this adapter. */
export function readArraysDirectly(adapter: DialectAdapter, prepare: (sql: string) => ArrayStatement): void {
  direct.set(adapter, prepare);
}

export async function selectArrays(db: Executor, query: Compilable): Promise<unknown[][]> {
  const compiled = query.compile();
  const executor = db.getExecutor();
  const prepare = direct.get(executor.adapter);
  if (!prepare) return (await db.executeQuery(compiled)).rows.map((row) => Object.values(row as object));
  // Read holding the one connection, as Kysely would: a transaction open on it meanwhile would
  // otherwise show its rows before they are committed (or that it rolls back).
  return executor.provideConnection(async () => prepare(compiled.sql).all(compiled.parameters));
}

/**
 * Calls `fn` with each row as an array, as the database steps to it. On SQLite nothing holds the
 * rows meanwhile, so a row's values die young: a read of 18,000 rollup rows whose blobs come as hex
 * text kept about 16 MB of strings alive through every scavenge when read whole, and cost 1.6-1.9x
 * the CPU of the same rows taken one by one (GC included). `fn` must not await: the connection is
 * held until the last row.
 */
export async function eachArray(db: Executor, query: Compilable, fn: (row: unknown[]) => void): Promise<void> {
  const compiled = query.compile();
  const executor = db.getExecutor();
  const prepare = direct.get(executor.adapter);
  if (!prepare) {
    for (const row of (await db.executeQuery(compiled)).rows) fn(Object.values(row as object));
    return;
  }
  await executor.provideConnection(async () => {
    for (const row of prepare(compiled.sql).iterate(compiled.parameters)) fn(row);
  });
}
