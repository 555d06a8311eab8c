/**
 * Blob columns shaped for reads of many rollup rows. Drivers hand each blob over as a Buffer of its
 * own, outside the JavaScript heap: five per row, a year's breakdown (18,000 rows) cost ten times
 * what the same rows cost without their blobs. So a row's blobs come joined, as one blob
 * (mergeRollups: a ~3 KB month row reads in a third of the time of its hex), or many rows' as one
 * hex text (readRowAnswers: one string per program, decoded natively by Buffer#write).
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

/**
 * The blobs of `columns` (none null), one after another, as one blob. SQLite's || gives text of
 * the same bytes, which the cast gives back as a blob; PostgreSQL's || joins bytea.
 */
export function concatenatedBlobs(db: Executor, columns: readonly string[]): RawBuilder<Uint8Array> {
  const joined = sql.join(
    columns.map((c) => sql.ref(c)),
    sql` || `,
  );
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<Uint8Array>`${joined}`
    : sql<Uint8Array>`cast(${joined} as blob)`;
}

/** An aggregate: the texts of a group's rows one after another, in no particular order. */
export function concatenatedText(db: Executor, text: RawBuilder<string>): RawBuilder<string> {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<string>`string_agg(${text}, '')`
    : sql<string>`group_concat(${text}, '')`;
}
