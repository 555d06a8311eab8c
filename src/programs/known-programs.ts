/**
 * Programs are never deleted and their time zone never changes, so a program once read is known for
 * good: the write path asks this instead of the database on every mutation. Only programs found
 * are kept, so a program created a moment ago (here or on another instance) is found at once.
 * Dimensions are never removed: those read are kept too, and a key not known yet is looked up
 * again, so one declared a moment ago is found.
 */
import type { Executor } from '../db/types.js';
import { type Dimension, dimensionsOf } from './dimensions.repository.js';

const MAX_KNOWN = 100_000;

export class KnownPrograms {
  private readonly zones = new Map<string, string>();
  private readonly dimensions = new Map<string, Map<string, Dimension>>();

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

  /** The program's dimension `key` when known already (undefined: ask dimension()). */
  knownDimension(programId: string, key: string): Dimension | undefined {
    return this.dimensions.get(programId)?.get(key);
  }

  /** The program's dimension `key`, or undefined when it declares none such (read again before saying so). */
  async dimension(db: Executor, programId: string, key: string): Promise<Dimension | undefined> {
    const known = this.dimensions.get(programId)?.get(key);
    if (known) return known;
    if (this.dimensions.size > MAX_KNOWN) this.dimensions.clear();
    const all = new Map((await dimensionsOf(db, [programId])).map((d) => [d.key, d]));
    this.dimensions.set(programId, all);
    return all.get(key);
  }
}
