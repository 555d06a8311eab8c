/**
 * Blob columns shaped for reads of many rollup rows. Drivers hand each blob over as a Buffer of its
 * own, outside the JavaScript heap: five per row, a year's breakdown (18,000 rows) cost ten times
 * what the same rows cost without their blobs. So a program's rows come joined, as one blob per
 * program (mergeRollups, readRowAnswers): a year's totals by office, 2,050 rows, read in a third
 * of the time it took to read each row's blobs as one (bench/read-paths.ts).
 */
import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Executor } from './types.js';

const isPostgres = (db: Executor) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * The blobs of `columns` (none null), one after another, as one blob. SQLite's || gives text of
 * the same bytes, which the cast gives back as a blob; PostgreSQL's || joins bytea.
 */
export function concatenatedBlobs(db: Executor, columns: readonly string[]): RawBuilder<Uint8Array> {
  const joined = joinedBlobs(columns.map((c) => sql.ref(c)));
  return isPostgres(db) ? joined : sql<Uint8Array>`cast(${joined} as blob)`;
}

/** `parts` joined with ||: on SQLite text of the same bytes (a cast, or group_concat's, makes it a blob again). */
export const joinedBlobs = (parts: readonly RawBuilder<unknown>[]): RawBuilder<Uint8Array> =>
  sql<Uint8Array>`${sql.join(parts, sql` || `)}`;

/**
 * The byte lengths of the blobs of `columns` (none null), each as four bytes, big-endian, one
 * after another: what splits a row's concatenated blobs again once many rows are joined.
 */
export function blobLengths(db: Executor, columns: readonly string[]): RawBuilder<Uint8Array> {
  if (isPostgres(db)) return joinedBlobs(columns.map((c) => sql`int4send(length(${sql.ref(c)}))`));
  const format = sql.lit('%08x'.repeat(columns.length));
  const lengths = sql.join(columns.map((c) => sql`length(${sql.ref(c)})`));
  return sql<Uint8Array>`unhex(printf(${format}, ${lengths}))`;
}

/**
 * An aggregate: the blobs `blob` gives for a group's rows, one after another, as one blob, in the
 * order the rows are read (on SQLite, a group's rows in the order of the index it is read by).
 * A row whose blob is null adds nothing.
 */
export function concatenatedBlobsOfGroup(db: Executor, blob: RawBuilder<Uint8Array>): RawBuilder<Uint8Array> {
  return isPostgres(db)
    ? sql<Uint8Array>`string_agg(${blob}, ''::bytea)`
    : sql<Uint8Array>`cast(group_concat(${blob}, '') as blob)`;
}
