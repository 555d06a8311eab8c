/**
 * Multi-row inserts whose SQL Kysely compiles once per dialect, table shape and row count: building
 * a few hundred rows node by node cost more than the database took to run them. The caller's rows
 * are bound in `columns` order, so the same function serves SQLite and PostgreSQL.
 */
import { CompiledQuery, type DialectAdapter } from 'kysely';
import type { Executor } from '../db/types.js';

const compiled = new WeakMap<DialectAdapter, Map<string, string>>();

/** A prepared statement run directly on the database's one connection. */
export interface DirectStatement {
  run(parameters: unknown[]): unknown;
}

/**
 * SQLite only: the connection's own statement cache, by the adapter of its Kysely instance. On one
 * in-process connection a single-row insert prepared once and run row by row costs less than
 * binding one statement of hundreds of rows (better-sqlite3: about 30% less a row). The rows run on
 * the same connection, inside the caller's open transaction. PostgreSQL keeps multi-row
 * statements, where each statement is a round trip.
 */
const direct = new WeakMap<DialectAdapter, (sql: string) => DirectStatement>();

export function runRowsDirectly(adapter: DialectAdapter, prepare: (sql: string) => DirectStatement): void {
  direct.set(adapter, prepare);
}

/**
 * Runs `build(template rows)` once per `name` and row count to get the SQL, then executes it with
 * the rows' values. `build` must bind exactly the rows' values, column by column, row by row
 * (a plain insert, or one with an ON CONFLICT clause that binds nothing more).
 */
export async function insertRows<Row>(
  trx: Executor,
  name: string,
  columns: readonly (keyof Row & string)[],
  rows: readonly Row[],
  build: (template: Row[]) => { compile(): CompiledQuery },
): Promise<void> {
  if (rows.length === 0) return;
  const adapter = trx.getExecutor().adapter;
  // Only inside a transaction, which holds the one connection: run outside one, a row could land
  // in another caller's transaction, open on that connection meanwhile.
  const prepare = trx.isTransaction ? direct.get(adapter) : undefined;
  const text = compile(adapter, name, columns, prepare ? 1 : rows.length, build);
  if (prepare) {
    const statement = prepare(text);
    const parameters: unknown[] = new Array(columns.length);
    for (const row of rows) {
      for (let c = 0; c < columns.length; c++) parameters[c] = row[columns[c]];
      statement.run(parameters);
    }
    return;
  }
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of columns) parameters.push(row[column]);
  await trx.executeQuery(CompiledQuery.raw(text, parameters));
}

function compile<Row>(
  adapter: DialectAdapter,
  name: string,
  columns: readonly (keyof Row & string)[],
  count: number,
  build: (template: Row[]) => { compile(): CompiledQuery },
): string {
  let byKey = compiled.get(adapter);
  if (!byKey) compiled.set(adapter, (byKey = new Map()));
  const key = `${name} ${count}`;
  let text = byKey.get(key);
  if (text === undefined) {
    const template = Object.fromEntries(columns.map((c) => [c, null])) as Row;
    const query = build(Array(count).fill(template)).compile();
    if (query.parameters.length !== count * columns.length)
      throw new Error(`insertRows(${name}): the query binds more than the rows`);
    text = query.sql;
    if (byKey.size > 256) byKey.clear(); // odd sizes come and go; the common ones come back
    byKey.set(key, text);
  }
  return text;
}
