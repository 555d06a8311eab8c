/** Reading and writing rollup rows. */
import { sql } from 'kysely';
import type { EventKind, Executor, RollupTable } from '../db/types.js';
import { Aggregate, Histogram } from './aggregate.js';
import { bucketsOf } from './rollup-levels.js';

export interface RollupDelta {
  programId: string;
  level: string;
  bucketStart: number;
  aggregate: Aggregate;
}

export const rollupKey = (programId: string, level: string, bucketStart: number) =>
  `${programId}\u0000${level}\u0000${bucketStart}`;

export function aggregateOfRow(row: RollupTable): Aggregate {
  const aggregate = new Aggregate();
  aggregate.resCount = Number(row.res_count);
  aggregate.resSum = Number(row.res_sum);
  aggregate.resHist = Histogram.decode(row.res_hist);
  aggregate.satCount = Number(row.sat_count);
  aggregate.satSum = Number(row.sat_sum);
  aggregate.satPositive = Number(row.sat_positive);
  aggregate.conflicts = Number(row.conflicts);
  return aggregate;
}

function rowOf(delta: RollupDelta): RollupTable {
  const a = delta.aggregate;
  return {
    program_id: delta.programId,
    level: delta.level,
    bucket_start: delta.bucketStart,
    res_count: a.resCount,
    res_sum: a.resSum,
    res_hist: a.resHist.encode(),
    sat_count: a.satCount,
    sat_sum: a.satSum,
    sat_positive: a.satPositive,
    conflicts: a.conflicts,
  };
}

/** What the rollups need of an event. */
export interface RollupEvent {
  program_id: string;
  kind: EventKind;
  value: number | null;
  occurred_at: number;
}

/** Sums events (sign 1) or retractions (sign -1) into one delta per rollup bucket they touch. */
export function rollupDeltas(rows: readonly RollupEvent[], zones: ReadonlyMap<string, string>, sign: 1 | -1): RollupDelta[] {
  const deltas = new Map<string, RollupDelta>();
  for (const row of rows) {
    const occurredAt = Number(row.occurred_at);
    for (const { level, start } of bucketsOf(occurredAt, zones.get(row.program_id)!)) {
      const key = rollupKey(row.program_id, level, start);
      let delta = deltas.get(key);
      if (!delta) {
        delta = { programId: row.program_id, level, bucketStart: start, aggregate: new Aggregate() };
        deltas.set(key, delta);
      }
      delta.aggregate.addEvent(row.kind, row.value, sign);
    }
  }
  return [...deltas.values()];
}

const CHUNK = 500;

/**
 * Adds each delta to its stored rollup (read, merge, write back) inside the caller's transaction.
 * The histogram is not a number a database can add, hence the read.
 */
export async function applyRollupDeltas(trx: Executor, deltas: Iterable<RollupDelta>): Promise<void> {
  const all = [...deltas];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    const existing = await trx
      .selectFrom('rollups')
      .selectAll()
      .where((eb) =>
        eb.or(
          chunk.map((d) =>
            eb.and([eb('program_id', '=', d.programId), eb('level', '=', d.level), eb('bucket_start', '=', d.bucketStart)]),
          ),
        ),
      )
      .execute();
    const stored = new Map(existing.map((row) => [rollupKey(row.program_id, row.level, Number(row.bucket_start)), row]));
    const rows = chunk.map((delta) => {
      const row = stored.get(rollupKey(delta.programId, delta.level, delta.bucketStart));
      const merged = row ? aggregateOfRow(row).merge(delta.aggregate) : delta.aggregate;
      return rowOf({ ...delta, aggregate: merged });
    });
    await trx
      .insertInto('rollups')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['program_id', 'level', 'bucket_start']).doUpdateSet({
          res_count: sql`excluded.res_count`,
          res_sum: sql`excluded.res_sum`,
          res_hist: sql`excluded.res_hist`,
          sat_count: sql`excluded.sat_count`,
          sat_sum: sql`excluded.sat_sum`,
          sat_positive: sql`excluded.sat_positive`,
          conflicts: sql`excluded.conflicts`,
        }),
      )
      .execute();
  }
}

export function readRollups(db: Executor, level: string, programIds: string[], start: number, end: number) {
  return db
    .selectFrom('rollups')
    .selectAll()
    .where('level', '=', level)
    .where('program_id', 'in', programIds)
    .where('bucket_start', '>=', start)
    .where('bucket_start', '<', end)
    .execute();
}
