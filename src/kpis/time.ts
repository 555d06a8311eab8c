/**
 * Time buckets: every boundary the service cuts, in one module.
 * Instants are UTC epoch milliseconds; calendar buckets are cut in an IANA time zone, weeks start Monday.
 */
import { DateTime, IANAZone } from 'luxon';

export type Granularity = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
export const GRANULARITIES: readonly Granularity[] = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A half-open span of time, [start, end). */
export interface Interval {
  start: number;
  end: number;
}

export function isValidTimeZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

const luxonUnit = { DAY: 'day', WEEK: 'week', MONTH: 'month', QUARTER: 'quarter', YEAR: 'year' } as const;

/** Start of the bucket of `granularity` that holds instant `t`, in `zone`. */
export function bucketStart(t: number, granularity: Granularity, zone: string): number {
  if (granularity === 'HOUR') {
    // By offset rather than by wall clock, so the repeated hour of a DST fall-back stays two buckets.
    const offset = IANAZone.create(zone).offset(t) * MINUTE;
    return t - mod(t + offset, HOUR);
  }
  return DateTime.fromMillis(t, { zone }).startOf(luxonUnit[granularity]).toMillis();
}

/** Start of the bucket after the one that starts at `start`. */
export function nextBucketStart(start: number, granularity: Granularity, zone: string): number {
  if (granularity === 'HOUR') return start + HOUR;
  const next = DateTime.fromMillis(start, { zone }).plus({ [`${luxonUnit[granularity]}s`]: 1 });
  // plus() keeps the wall clock; startOf() snaps back to the boundary if a DST gap moved it.
  return next.startOf(luxonUnit[granularity]).toMillis();
}

/** Smallest bucket boundary at or after `t`. */
export function bucketCeil(t: number, granularity: Granularity, zone: string): number {
  const start = bucketStart(t, granularity, zone);
  return start === t ? t : nextBucketStart(start, granularity, zone);
}

export class TooManyBucketsError extends Error {
  constructor(readonly limit: number) {
    super(`the range holds more than ${limit} buckets`);
  }
}

/**
 * The buckets that cover [from, to), each clipped to the range. `start` is the bucket's own start,
 * which is before `from` for a range that begins mid-bucket.
 */
export function bucketsCovering(
  from: number,
  to: number,
  granularity: Granularity,
  zone: string,
  limit: number,
): { start: number; span: Interval }[] {
  const buckets: { start: number; span: Interval }[] = [];
  for (let start = bucketStart(from, granularity, zone); start < to; ) {
    if (buckets.length === limit) throw new TooManyBucketsError(limit);
    const next = nextBucketStart(start, granularity, zone);
    buckets.push({ start, span: { start: Math.max(start, from), end: Math.min(next, to) } });
    start = next;
  }
  return buckets;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * The local day that holds `t`, remembered per zone: writes land mostly in today's bucket,
 * so the calendar is consulted once a day rather than once an event.
 */
const lastLocalDay = new Map<string, Interval>();
export function localDayStart(t: number, zone: string): number {
  const cached = lastLocalDay.get(zone);
  if (cached && t >= cached.start && t < cached.end) return cached.start;
  const start = bucketStart(t, 'DAY', zone);
  lastLocalDay.set(zone, { start, end: nextBucketStart(start, 'DAY', zone) });
  return start;
}
