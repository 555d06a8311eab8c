/**
 * Blob columns read as hex text. A driver hands each blob over as its own Buffer, with memory of
 * its own outside the JavaScript heap: reading a year's breakdown (18,000 rollup rows of five
 * blobs) that way cost ten times what the same rows cost without their blobs. Text is an ordinary
 * string, which the reader decodes into one array per result (Buffer#write decodes hex natively,
 * several times faster than a loop over the characters): see kpis/rollups.repository.ts mergeRollups.
 */
import { PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Executor } from './types.js';

/** `column` as hex text: '' or null for an empty or missing blob (SQLite's hex(), PostgreSQL's encode()). */
export function hexOf(db: Executor, column: string): RawBuilder<string | null> {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<string | null>`encode(${sql.ref(column)}, 'hex')`
    : sql<string | null>`hex(${sql.ref(column)})`;
}
