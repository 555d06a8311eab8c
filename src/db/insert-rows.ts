/**
 * Multi-row inserts whose SQL Kysely compiles once per dialect, table shape and row count: building
 * a few hundred rows node by node cost more than the database took to run them. The caller's rows
 * are bound in `columns` order, so the same function serves SQLite and PostgreSQL.
 */
import { CompiledQuery, type DialectAdapter } from 'kysely';
import type { Executor } from './types.js';

const compiled = new WeakMap<DialectAdapter, Map<string, string>>();

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
  const adapter = trx.getExecutor().adapter;
  let byKey = compiled.get(adapter);
  if (!byKey) compiled.set(adapter, (byKey = new Map()));
  const key = `${name} ${rows.length}`;
  let text = byKey.get(key);
  if (text === undefined) {
    const template = Object.fromEntries(columns.map((c) => [c, null])) as Row;
    const query = build(Array(rows.length).fill(template)).compile();
    if (query.parameters.length !== rows.length * columns.length) throw new Error(`insertRows(${name}): the query binds more than the rows`);
    text = query.sql;
    if (byKey.size > 256) byKey.clear(); // odd sizes come and go; the common ones come back
    byKey.set(key, text);
  }
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of columns) parameters.push(row[column]);
  await trx.executeQuery(CompiledQuery.raw(text, parameters));
}
