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
