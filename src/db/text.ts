/** Text tests that read the same on SQLite and PostgreSQL. */
import { type Expression, type RawBuilder, sql } from 'kysely';

/**
 * Whether `text` occurs in `column`, case-sensitively (LIKE is not, on SQLite), with no
 * wildcard to escape: `replace` is the one function both dialects name alike. Null: false.
 */
export function containsText(column: Expression<string | null>, text: string): RawBuilder<boolean> {
  return sql<boolean>`replace(${column}, ${text}, '') <> ${column}`;
}
