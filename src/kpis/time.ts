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
  const cut = calendar(granularity, zone);
  for (let start = cut.floor(from); start < to; ) {
    if (buckets.length === limit) throw new TooManyBucketsError(limit);
    const next = cut.next(start);
    buckets.push({ start, span: { start: Math.max(start, from), end: Math.min(next, to) } });
    start = next;
  }
  return buckets;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/**
 * Consecutive bucket boundaries of one granularity in one zone, extended on demand: reads cut
 * hundreds of buckets and writes fold every event into a few, so the calendar (Luxon, slow) is
 * consulted once per bucket rather than once per lookup.
 */
class Calendar {
  /** Ascending boundaries; [starts[i], starts[i + 1]) is one bucket. */
  private starts: number[] = [];

  constructor(
    private readonly granularity: Granularity,
    private readonly zone: string,
  ) {}

  /** The index locate() answered last: events of one batch mostly fall in the same few buckets. */
  private last = 0;

  /** Index i with starts[i] <= t < starts[i + 1]. */
  private locate(t: number): number {
    const i = this.last;
    if (t >= this.starts[i] && t < this.starts[i + 1]) return i;
    return (this.last = this.search(t));
  }

  private search(t: number): number {
    let s = this.starts;
    const nominal = granularity(this.granularity);
    if (s.length === 0 || t < s[0] - 1000 * nominal || t >= s[s.length - 1] + 1000 * nominal || s.length > 100_000) {
      const start = bucketStart(t, this.granularity, this.zone);
      s = this.starts = [start, nextBucketStart(start, this.granularity, this.zone)];
    }
    if (t < s[0]) {
      const before: number[] = [];
      for (let first = s[0]; t < first; ) before.unshift((first = bucketStart(first - 1, this.granularity, this.zone)));
      s = this.starts = before.concat(s);
    }
    while (t >= s[s.length - 1]) s.push(nextBucketStart(s[s.length - 1], this.granularity, this.zone));
    let lo = 0;
    let hi = s.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // locate() may replace this.starts, so it runs before this.starts is read.
  floor(t: number): number {
    const i = this.locate(t);
    return this.starts[i];
  }

  ceil(t: number): number {
    const i = this.locate(t);
    return this.starts[i] === t ? t : this.starts[i + 1];
  }

  next(start: number): number {
    const i = this.locate(start);
    return this.starts[i + 1];
  }
}

const NOMINAL: Record<Granularity, number> = {
  HOUR,
  DAY,
  WEEK: 7 * DAY,
  MONTH: 30 * DAY,
  QUARTER: 91 * DAY,
  YEAR: 365 * DAY,
};
const granularity = (g: Granularity) => NOMINAL[g];

/** By granularity, then zone: no key is built per lookup (writes ask several times per event). */
const calendars = new Map<Granularity, Map<string, Calendar>>();
function calendar(granularity: Granularity, zone: string): Calendar {
  let byZone = calendars.get(granularity);
  if (!byZone) calendars.set(granularity, (byZone = new Map()));
  let found = byZone.get(zone);
  if (!found) byZone.set(zone, (found = new Calendar(granularity, zone)));
  return found;
}

/** bucketStart, remembered: the same answer without asking the calendar again. */
export function cachedBucketStart(t: number, granularity: Granularity, zone: string): number {
  return calendar(granularity, zone).floor(t);
}

/** bucketCeil, remembered. */
export function cachedBucketCeil(t: number, granularity: Granularity, zone: string): number {
  return calendar(granularity, zone).ceil(t);
}
