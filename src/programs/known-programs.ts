/**
 * Programs are never deleted and their time zone never changes, so a program once read is known for
 * good: the write path asks this instead of the database on every mutation. Only programs found
 * are kept, so a program created a moment ago (here or on another instance) is found at once.
 */
import type { Executor } from '../db/types.js';

const MAX_KNOWN = 100_000;

export class KnownPrograms {
  private readonly zones = new Map<string, string>();

  /** The time zone of each of `ids` that exists. */
  async zonesOf(db: Executor, ids: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing: string[] = [];
    for (const id of ids) {
      const zone = this.zones.get(id);
      if (zone === undefined) missing.push(id);
      else found.set(id, zone);
    }
    if (missing.length > 0) {
      const rows = await db.selectFrom('programs').select(['id', 'timezone']).where('id', 'in', missing).execute();
      if (this.zones.size + rows.length > MAX_KNOWN) this.zones.clear();
      for (const row of rows) {
        this.zones.set(row.id, row.timezone);
        found.set(row.id, row.timezone);
      }
    }
    return found;
  }
}
