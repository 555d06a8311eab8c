/**
 * Rows this process wrote and committed, kept in memory so a read-modify-write can skip the read.
 * Only sound where this connection is the one writer of what it caches, and only while nothing
 * else changed the database: `database.ts` gives one to SQLite (one connection, transactions
 * BEGIN IMMEDIATE) and empties it whenever another connection has committed since (PRAGMA
 * data_version, checked as each write transaction begins, holding the write lock) and on every
 * rollback (entries are updated in place as the transaction writes). PostgreSQL, where several
 * instances write the same rows, gets none.
 */
export class WrittenRows<V> {
  private readonly rows = new Map<string, V>();

  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const value = this.rows.get(key);
    if (value !== undefined) {
      // Most recently used last, so the oldest go first when the limit is reached.
      this.rows.delete(key);
      this.rows.set(key, value);
    }
    return value;
  }

  /** `value` must be what the row holds once the current transaction commits. */
  set(key: string, value: V): void {
    this.rows.delete(key);
    this.rows.set(key, value);
    if (this.rows.size > this.limit) this.rows.delete(this.rows.keys().next().value!);
  }

  /** Forgets everything (a rollback, another writer, or the table rewritten). */
  clear(): void {
    this.rows.clear();
  }

  get size(): number {
    return this.rows.size;
  }
}
