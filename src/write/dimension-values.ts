/**
 * The maxValues bound, kept inside the write transaction: the values a commit would add to each
 * dimension are found first (one lookup per dimension touched, of values not known already), then
 * each unit claims its new values in order, and a unit that would take a dimension past its bound
 * is refused alone, naming the event, the attribute, the dimension and the limit. The claimed
 * values are stored, and counted, with the events.
 */
import type { Executor } from '../db/types.js';
import type { OpenDatabase } from '../db/database.js';
import { addValues, dimensionKey, knownValues, valueCounts } from '../programs/dimensions.repository.js';
import { attributeEntries, fieldError } from '../events/attributes.js';
import type { EventRow } from '../events/events.repository.js';
import type { ValidEvent } from '../events/validate.js';

const MAX_KNOWN = 100_000;

/**
 * Values a dimension has taken, as read from the database: a value once taken stays taken, so
 * these need no lookup again. Only values read are kept (committed ones), never those a
 * transaction adds, which a rollback could take back. One per database, in whichever thread writes.
 */
class TakenValues {
  private readonly values = new Map<string, Set<string>>();
  private count = 0;

  /** Which of `values` the dimension has taken. */
  async of(db: Executor, programId: string, key: string, values: Iterable<string>): Promise<Set<string>> {
    const k = dimensionKey(programId, key);
    let set = this.values.get(k);
    const taken = new Set<string>();
    const unknown: string[] = [];
    for (const value of values) {
      if (set?.has(value)) taken.add(value);
      else unknown.push(value);
    }
    if (unknown.length === 0) return taken;
    const found = await knownValues(db, programId, key, unknown);
    if (this.count + found.length > MAX_KNOWN) {
      this.values.clear();
      this.count = 0;
      set = undefined;
    }
    if (!set) this.values.set(k, (set = new Set()));
    for (const value of found) {
      set.add(value);
      taken.add(value);
      this.count++;
    }
    return taken;
  }
}

const takenValues = new WeakMap<OpenDatabase, TakenValues>();

/**
 * Forgets the values known as taken, after a transaction that wrote several chunks rolled back: a
 * later chunk may have read values an earlier one of the same transaction added (spooled-write.ts).
 */
export function forgetTakenValues(database: OpenDatabase): void {
  takenValues.delete(database);
}

interface Claimed {
  programId: string;
  key: string;
  values: Set<string>;
}

export class ValueClaims {
  private readonly claimed = new Map<string, Claimed>();

  private constructor(
    /** Values not taken yet, by dimensionKey: the only ones a unit must claim. */
    private readonly fresh: Map<string, Set<string>>,
    private readonly counts: Map<string, { count: number; max: number }>,
  ) {}

  static async open(
    database: OpenDatabase,
    trx: Executor,
    units: readonly { events: readonly ValidEvent[] }[],
  ): Promise<ValueClaims> {
    let taken = takenValues.get(database);
    if (!taken) takenValues.set(database, (taken = new TakenValues()));
    // Per program, the values of each of its keys, each combination read once (attributeEntries gives
    // one array per attributes text): by program, then key, so that no key is built per event.
    const byProgram = new Map<
      string,
      { combinations: Set<readonly (readonly [string, string])[]>; values: Map<string, Set<string>> }
    >();
    for (const unit of units) {
      for (const event of unit.events) {
        if (!event.attributes) continue;
        const entries = attributeEntries(event.attributes);
        let program = byProgram.get(event.programId);
        if (!program) byProgram.set(event.programId, (program = { combinations: new Set(), values: new Map() }));
        if (program.combinations.has(entries)) continue;
        program.combinations.add(entries);
        for (const [key, value] of entries) {
          let values = program.values.get(key);
          if (!values) program.values.set(key, (values = new Set()));
          values.add(value);
        }
      }
    }
    const fresh = new Map<string, Set<string>>();
    const owners: string[] = [];
    for (const [programId, { values: byKey }] of byProgram) {
      const before = fresh.size;
      for (const [key, values] of byKey) {
        const seen = await taken.of(trx, programId, key, values);
        const left = new Set([...values].filter((v) => !seen.has(v)));
        if (left.size > 0) fresh.set(dimensionKey(programId, key), left);
      }
      if (fresh.size > before) owners.push(programId);
    }
    return new ValueClaims(fresh, fresh.size > 0 ? await valueCounts(trx, owners) : new Map());
  }

  /**
   * Claims the new values of a unit's stored events (results in the unit's event order); an error,
   * claiming nothing, when one would pass its dimension's bound. `where` is `events[3].` in a batch.
   */
  claim(results: readonly { event: EventRow; duplicate: boolean }[], indexed: boolean): Error | null {
    if (this.fresh.size === 0) return null;
    const mine: [Claimed, string, { count: number }][] = [];
    const undo = () => {
      for (const [claimed, value, count] of mine) {
        claimed.values.delete(value);
        count.count--;
      }
    };
    for (const [i, { event, duplicate }] of results.entries()) {
      if (duplicate || !event.attributes) continue;
      const entries = attributeEntries(event.attributes);
      for (const [j, [key, value]] of entries.entries()) {
        const k = dimensionKey(event.program_id, key);
        if (!this.fresh.get(k)?.has(value)) continue;
        let claimed = this.claimed.get(k);
        if (claimed?.values.has(value)) continue;
        const field = `${indexed ? `events[${i}].` : ''}attributes[${j}]`;
        const count = this.counts.get(k);
        if (!count) {
          undo();
          return fieldError(`${field}.key`, `"${key}" is not a dimension of program "${event.program_id}"`);
        }
        if (count.count + 1 > count.max) {
          const error = fieldError(
            `${field}.value`,
            `"${value}" would be value ${count.count + 1} of dimension "${key}", past its limit of ${count.max} values (maxValues)`,
          );
          undo();
          return error;
        }
        if (!claimed) this.claimed.set(k, (claimed = { programId: event.program_id, key, values: new Set() }));
        claimed.values.add(value);
        count.count++;
        mine.push([claimed, value, count]);
      }
    }
    return null;
  }

  /** Stores the values claimed, in the caller's transaction. */
  async store(trx: Executor, now: number): Promise<void> {
    for (const { programId, key, values } of this.claimed.values()) {
      if (values.size > 0) await addValues(trx, programId, key, [...values], now);
    }
  }
}
