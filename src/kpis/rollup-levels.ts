/**
 * The rollup levels: which buckets pre-aggregated rows exist for. A read covers a span with the
 * coarsest levels whose boundaries fit inside it and falls back to raw events only at the edges.
 *  - L: a day in the program's own time zone (what most dashboards ask for)
 *  - D: a UTC day (all-programs dashboards, and zones that differ from the program's)
 *  - H: a UTC hour (edges; every zone whose offset is whole hours aligns with it)
 */
import { DAY, HOUR, bucketCeil, localDayStart, type Interval } from './time.js';

export type LevelName = 'L' | 'D' | 'H';

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
  floor: (t) => t - (((t % length) + length) % length),
  ceil: (t) => {
    const floor = t - (((t % length) + length) % length);
    return floor === t ? t : floor + length;
  },
});

const LOCAL_DAY: RollupLevel = {
  name: 'L',
  length: DAY,
  floor: (t, zone) => localDayStart(t, zone),
  ceil: (t, zone) => bucketCeil(t, 'DAY', zone),
};
const UTC_DAY = fixed('D', DAY);
const UTC_HOUR = fixed('H', HOUR);

export const LEVELS: readonly RollupLevel[] = [LOCAL_DAY, UTC_DAY, UTC_HOUR];

/** The rollup buckets an event at `t` of a program in `zone` is folded into. */
export function bucketsOf(t: number, zone: string): { level: LevelName; start: number }[] {
  return LEVELS.map((level) => ({ level: level.name, start: level.floor(t, zone) }));
}

export interface Piece extends Interval {
  /** A rollup level, or 'raw' for events read one by one. */
  source: LevelName | 'raw';
  /** Index of the span (series bucket) the piece belongs to. */
  span: number;
}

/**
 * Covers [start, end) with the coarsest pieces: the longest run of whole buckets of the first
 * level that fits, then the two remainders with the finer levels, down to raw events.
 */
export function cover(start: number, end: number, zone: string, span: number, levels = LEVELS): Piece[] {
  if (start >= end) return [];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    const a = level.ceil(start, zone);
    const b = level.floor(end, zone);
    if (a < b) {
      const finer = levels.slice(i + 1);
      return [
        ...cover(start, a, zone, span, finer),
        { source: level.name, start: a, end: b, span },
        ...cover(b, end, zone, span, finer),
      ];
    }
  }
  return [{ source: 'raw', start, end, span }];
}
