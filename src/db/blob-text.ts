/**
 * Blob columns read as hex text. A driver hands each blob over as its own Buffer, with memory of
 * its own outside the JavaScript heap: reading a year's breakdown (18,000 rollup rows of five
 * blobs) that way cost ten times what the same rows cost without their blobs. Text is an ordinary
 * string, which the reader decodes into one array per result (Buffer#write decodes hex natively,
 * several times faster than a loop over the characters): see kpis/rollups.repository.ts mergeRollups.
 */
import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Executor } from './types.js';

/**
 * The blobs of `columns` (none null), one after another, as one hex text: one string per row for
 * the driver to make and the reader to decode, rather than one per column (a rollup row has five).
 * Both databases concatenate blobs byte for byte with ||.
 */
export function hexOfConcatenated(db: Executor, columns: readonly string[]): RawBuilder<string> {
  const joined = sql.join(
    columns.map((c) => sql.ref(c)),
    sql` || `,
  );
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<string>`encode(${joined}, 'hex')`
    : sql<string>`hex(${joined})`;
}

/** An aggregate: the texts of a group's rows one after another, in no particular order. */
export function concatenatedText(db: Executor, text: RawBuilder<string>): RawBuilder<string> {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<string>`string_agg(${text}, '')`
    : sql<string>`group_concat(${text}, '')`;
}
