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
  /**
   * In the order last inserted. `used`: got since inserted or since the eviction last passed it,
   * which then moves it to the end rather than forget it (a second chance, the clock algorithm's
   * approximation of least recently used): a get only marks its entry, where moving it to the end
   * on every get cost a deletion, an insertion and a key kept anew for each of the thousands of rows
   * a commit reads.
   */
  private readonly rows = new Map<string, { value: V; size: number; used: boolean }>();
  private bytes = 0;

  /** `sizeOf` tells roughly how many bytes a value holds; the oldest go once all pass `budget`. */
  constructor(
    private readonly budget: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.rows.get(key);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.value;
  }

  /**
   * `value` must be what the row holds once the current transaction commits. Values are changed in
   * place and set again after each change, which is when their size is counted anew.
   */
  set(key: string, value: V): void {
    const old = this.rows.get(key);
    const size = this.sizeOf(value);
    if (old?.value === value) {
      // The same value changed in place, just read by get(): only its size is counted anew (a
      // commit sets thousands of rows it has just read).
      this.bytes += size - old.size;
      old.size = size;
      old.used = true;
    } else {
      if (old) {
        this.bytes -= old.size;
        this.rows.delete(key);
      }
      // Unmarked: its place at the end is its recency.
      this.rows.set(key, { value, size, used: false });
      this.bytes += size;
    }
    if (this.bytes > this.budget) this.evict();
  }

  /** Forgets the least recently used, roughly, till all fit the budget (see `rows`). */
  private evict(): void {
    for (const [key, entry] of this.rows) {
      if (this.bytes <= this.budget) return;
      this.rows.delete(key);
      if (entry.used) {
        entry.used = false;
        this.rows.set(key, entry);
      } else this.bytes -= entry.size;
    }
  }

  /** Forgets everything (a rollback, another writer, or the table rewritten). */
  clear(): void {
    this.rows.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.rows.size;
  }
}
