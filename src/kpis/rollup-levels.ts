/**
 * The rollup levels: which buckets pre-aggregated rows exist for. A read covers a span with the
 * coarsest buckets that fit inside it and falls back to raw events only at the edges.
 *  - M: a month in the program's own time zone (long ranges: a year is twelve rows)
 *  - L: a day in the program's own time zone (what most dashboards ask for)
 *  - D: a UTC day (all-programs dashboards and other zones; omitted for UTC programs, where it is L)
 *  - H: a UTC hour (edges; every zone whose offset is whole hours aligns with it)
 * Besides one set per program, the pseudo program ALL_PROGRAMS holds the sum of every program in
 * UTC, so an all-programs dashboard reads a few rows per bucket rather than one per program. Its
 * rows are sharded (ALL_PROGRAMS_SHARDS): each write transaction adds its events to a shard no other
 * transaction holds, so writers of different programs never wait for one another, and a read sums
 * the shards.
 */
import { DAY, HOUR, cachedBucketCeil, cachedBucketStart, fixedCeil, fixedFloor, type Interval } from './time.js';

export type LevelName = 'M' | 'L' | 'D' | 'H';

/** The rollups of every program summed, kept in UTC (see kpi.service.ts for who may read them). */
export const ALL_PROGRAMS = '*';
export const ALL_PROGRAMS_ZONE = 'UTC';

/**
 * The rollup ids of ALL_PROGRAMS's shards, each its own row per bucket: ALL_PROGRAMS itself (where
 * every write lands while writers do not overlap, and where one SQLite writer always writes), then
 * `*1`, `*2`, … for writers that overlap it (program ids start with a letter or digit, so none
 * collides). A write takes the first shard free (OpenDatabase.lockAnyOf), so the shards in use
 * follow the most write transactions ever running at once: on PostgreSQL one per instance, plus
 * retractions. Sixteen let that many overlap before one waits; a read merges at most sixteen rows
 * per bucket.
 */
export const ALL_PROGRAMS_SHARDS: readonly string[] = Array.from({ length: 16 }, (_, k) =>
  k === 0 ? ALL_PROGRAMS : `${ALL_PROGRAMS}${k}`,
);

/** The stored rollup ids whose rows sum to a rollup id's answer: ALL_PROGRAMS's shards, or itself. */
export const storedRollupIds = (rollupId: string): readonly string[] =>
  rollupId === ALL_PROGRAMS ? ALL_PROGRAMS_SHARDS : [rollupId];

/**
 * The rollup id of the events of a program whose attribute `key` has `value` (issue 18): its rows sit
 * beside the program's own in the rollups table, under this id in the program_id column. The
 * separator is a control character, which neither program ids, dimension keys nor (printable)
 * values may hold, so ids never collide; a dimension's ids share the prefix `program␟key␟`.
 */
export function dimensionRollupId(programId: string, key: string, value: string): string {
  return `${programId}\u001f${key}\u001f${value}`;
}

export interface RollupLevel {
  name: LevelName;
  /** Length of one bucket, roughly, to judge when two reads are near enough to share a query. */
  length: number;
  floor(t: number, zone: string): number;
  ceil(t: number, zone: string): number;
}

const fixed = (name: LevelName, length: number): RollupLevel => ({
  name,
  length,
  floor: (t) => fixedFloor(t, length),
  ceil: (t) => fixedCeil(t, length),
});

const LOCAL_MONTH: RollupLevel = {
  name: 'M',
  length: 31 * DAY,
  floor: (t, zone) => cachedBucketStart(t, 'MONTH', zone),
  ceil: (t, zone) => cachedBucketCeil(t, 'MONTH', zone),
};
const LOCAL_DAY: RollupLevel = {
  name: 'L',
  length: DAY,
  floor: (t, zone) => cachedBucketStart(t, 'DAY', zone),
  ceil: (t, zone) => cachedBucketCeil(t, 'DAY', zone),
};
const UTC_DAY = fixed('D', DAY);
const UTC_HOUR = fixed('H', HOUR);

const ZONED_LEVELS: readonly RollupLevel[] = [LOCAL_MONTH, LOCAL_DAY, UTC_DAY, UTC_HOUR];
const UTC_LEVELS: readonly RollupLevel[] = [LOCAL_MONTH, LOCAL_DAY, UTC_HOUR];
/** The most levels a rollup keeps (a zoned program's). */
export const MOST_LEVELS = ZONED_LEVELS.length;

// Every level but the hour, the last: a value's levels are the first of its program's, so a commit
// finds an event's bucket starts once for both (rollupDeltas).
const ZONED_VALUE_LEVELS: readonly RollupLevel[] = ZONED_LEVELS.slice(0, -1);
const UTC_VALUE_LEVELS: readonly RollupLevel[] = UTC_LEVELS.slice(0, -1);

/**
 * The levels kept for a program in `zone`, coarsest first. A dimension value's rollups (`value`)
 * keep no hours: hours are most of the rows a commit writes, times the values it touches, while a
 * filtered read needs them only at the edges of its range, where it reads the day's events instead.
 */
export function levelsOf(zone: string, value = false): readonly RollupLevel[] {
  if (value) return zone === 'UTC' ? UTC_VALUE_LEVELS : ZONED_VALUE_LEVELS;
  return zone === 'UTC' ? UTC_LEVELS : ZONED_LEVELS;
}

/** Whether a rollup id names a dimension value's rollups (see dimensionRollupId). */
export const isValueRollup = (rollupId: string) => rollupId.includes('\u001f');

export function levelLength(name: LevelName): number {
  return ZONED_LEVELS.find((l) => l.name === name)!.length;
}

export interface Piece extends Interval {
  /** A rollup level, or 'raw' for events read one by one. */
  source: LevelName | 'raw';
  /** Index of the span (series bucket) the piece belongs to. */
  span: number;
  /** 1 to add what the piece holds, -1 to take it away (see complementHour in kpi.service.ts). */
  sign: 1 | -1;
}

/**
 * Covers [start, end) with the coarsest pieces: the longest run of whole buckets of the first
 * level that fits, then the two remainders with the finer levels, down to raw events. Exact for
 * spans cut in any zone: a bucket is used only when it lies wholly inside the span.
 */
export function cover(start: number, end: number, zone: string, span: number, levels = levelsOf(zone)): Piece[] {
  if (start >= end) return [];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const a = level.ceil(start, zone);
    const b = level.floor(end, zone);
    if (a < b) {
      const finer = levels.slice(i + 1);
      return [
        ...cover(start, a, zone, span, finer),
        { source: level.name, start: a, end: b, span, sign: 1 },
        ...cover(b, end, zone, span, finer),
      ];
    }
  }
  return [{ source: 'raw', start, end, span, sign: 1 }];
}
