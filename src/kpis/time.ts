/**
 * Time buckets: every boundary the service cuts, in one module.
 * Instants are UTC epoch milliseconds; calendar buckets are cut in an IANA time zone, weeks start Monday.
 */
import { IANAZone } from 'luxon';

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

/**
 * The bucket rule, one pure function of (instant, granularity, zone):
 *  - DAY, WEEK (from Monday), MONTH, QUARTER and YEAR buckets start at the first instant of their
 *    local date: where midnight is skipped, the first instant that exists; where it repeats (Cuba
 *    ends DST at 01:00 back to 00:00), its first occurrence. The instants of a repeated tail of
 *    the day before (a fall-back at midnight to 23:00) belong to the new day's bucket, which has begun.
 *    A date that does not exist at all (Apia skipped 30 December 2011) has no bucket.
 *  - HOUR buckets start wherever the local clock reads hh:00. A repeated hour is a bucket of its
 *    own; a 30- or 45-minute shift makes one bucket longer or shorter (Lord Howe's 02:00 → 02:30
 *    makes the 01:00 bucket 90 minutes long), and never moves the buckets after it to hh:30.
 * Boundaries are computed from the zone's offset changes (see Timeline), never from what was asked
 * before; the Calendar below only remembers answers.
 */
export function bucketStart(t: number, granularity: Granularity, zone: string): number {
  const timeline = timelineOf(zone);
  if (granularity === 'HOUR') return hourFloor(timeline, t);
  const first = unitStart(timeline.wall(t), granularity);
  const next = timeline.firstInstantAtOrAfter(unitAfter(first, granularity));
  return next <= t ? next : timeline.firstInstantAtOrAfter(first);
}

/** Start of the bucket after the one that holds `start` (normally a bucket start). */
export function nextBucketStart(start: number, granularity: Granularity, zone: string): number {
  const timeline = timelineOf(zone);
  if (granularity === 'HOUR') return hourAfter(timeline, start);
  const after = unitAfter(unitStart(timeline.wall(start), granularity), granularity);
  const next = timeline.firstInstantAtOrAfter(after);
  // `start` in a repeated tail of the day before a bucket that has already begun: the one after that.
  return next > start ? next : timeline.firstInstantAtOrAfter(unitAfter(after, granularity));
}

/** The last instant u <= t whose local clock reads hh:00. */
function hourFloor(timeline: Timeline, t: number): number {
  for (;;) {
    const offset = timeline.offsetAt(t);
    const candidate = t - mod(t + offset, HOUR);
    const change = timeline.lastChangeIn(candidate, t);
    if (change === null) return candidate;
    // The clock changed after the candidate: the change itself, if it lands on hh:00, else earlier.
    if (mod(change + offset, HOUR) === 0) return change;
    t = change - 1;
  }
}

/** The first instant u > t whose local clock reads hh:00. */
function hourAfter(timeline: Timeline, t: number): number {
  for (;;) {
    const offset = timeline.offsetAt(t);
    const candidate = t - mod(t + offset, HOUR) + HOUR;
    const change = timeline.firstChangeIn(t, candidate);
    if (change === null) return candidate;
    if (mod(change + timeline.offsetAt(change), HOUR) === 0) return change;
    t = change;
  }
}

/** Local wall-clock time (UTC arithmetic on `wall`) of the first midnight of the unit holding `wall`. */
function unitStart(wall: number, granularity: Exclude<Granularity, 'HOUR'>): number {
  const day = wall - mod(wall, DAY);
  if (granularity === 'DAY') return day;
  // 1970-01-01 was a Thursday: days since a Monday.
  if (granularity === 'WEEK') return day - mod(day / DAY + 3, 7) * DAY;
  const date = new Date(day);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (granularity === 'MONTH') return Date.UTC(year, month, 1);
  if (granularity === 'QUARTER') return Date.UTC(year, month - (month % 3), 1);
  return Date.UTC(year, 0, 1);
}

function unitAfter(start: number, granularity: Exclude<Granularity, 'HOUR'>): number {
  if (granularity === 'DAY') return start + DAY;
  if (granularity === 'WEEK') return start + 7 * DAY;
  const date = new Date(start);
  const months = granularity === 'MONTH' ? 1 : granularity === 'QUARTER' ? 3 : 12;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1);
}

/** Smallest bucket boundary at or after `t`. */
export function bucketCeil(t: number, granularity: Granularity, zone: string): number {
  const start = bucketStart(t, granularity, zone);
  return start === t ? t : nextBucketStart(start, granularity, zone);
}

/**
 * The first instant of the local date `year`-`month`-`day` in `zone` (month 1–12; a month past 12
 * rolls into the next year), by the same rule as a DAY bucket's start.
 */
export function localDateStart(year: number, month: number, day: number, zone: string): number {
  return timelineOf(zone).firstInstantAtOrAfter(Date.UTC(year, month - 1, day));
}

/** The local date (month 1–12) whose DAY bucket holds `t` in `zone`. */
export function localDateOf(t: number, zone: string): { year: number; month: number; day: number } {
  const timeline = timelineOf(zone);
  const date = new Date(unitStart(timeline.wall(bucketStart(t, 'DAY', zone)), 'DAY'));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** The start of the fixed-length span holding `t`, spans being cut from the epoch (UTC hours and days). */
export function fixedFloor(t: number, length: number): number {
  return t - mod(t, length);
}

/** The smallest boundary of fixed-length spans at or after `t`. */
export function fixedCeil(t: number, length: number): number {
  const floor = fixedFloor(t, length);
  return floor === t ? t : floor + length;
}

/** The shortest a bucket can be (a DST day is 23 hours), so a bucket count is never underestimated. */
const SHORTEST: Record<Granularity, number> = {
  HOUR: HOUR,
  DAY: DAY - HOUR,
  WEEK: 7 * DAY - HOUR,
  MONTH: 28 * DAY - HOUR,
  QUARTER: 89 * DAY - HOUR,
  YEAR: 365 * DAY - HOUR,
};

/**
 * At least as many buckets as cover [from, to) in any zone, without a calendar: an upper bound for
 * costing a request before it runs. 1 for an empty range.
 */
export function mostBucketsIn(from: number, to: number, granularity: Granularity): number {
  if (to <= from) return 1;
  return Math.ceil((to - from) / SHORTEST[granularity]) + 1;
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

/**
 * A zone's UTC offset over time, as the instants where it changes: found once per period of about
 * 400 days by asking Luxon (Intl) for the offset once a day and bisecting each change to the
 * millisecond. Each period's changes depend only on the zone and the period, so the table is a
 * cache of a pure function. (Two changes less than a day apart that return to the same offset
 * would go unseen: zones change their clocks weeks apart at the closest, Ramadan breaks included.)
 */
class Timeline {
  private readonly periods = new Map<number, { first: number; at: number[]; offsets: number[] }>();
  private readonly zone: IANAZone | null;

  constructor(name: string) {
    this.zone = name === 'UTC' ? null : IANAZone.create(name);
  }

  private ask(t: number): number {
    return this.zone === null ? 0 : Math.round(this.zone.offset(t) * MINUTE);
  }

  private period(p: number) {
    let found = this.periods.get(p);
    if (found) return found;
    const start = p * PERIOD;
    const first = this.ask(start);
    found = { first, at: [] as number[], offsets: [] as number[] };
    if (this.zone !== null) {
      let a = start;
      let oa = first;
      for (let b = start + SAMPLE; a < start + PERIOD - 1; b += SAMPLE) {
        b = Math.min(b, start + PERIOD - 1);
        const ob = this.ask(b);
        // Every change in (a, b]: bisect to the first instant of another offset, then go on from it.
        while (oa !== ob) {
          let lo = a;
          let hi = b;
          while (hi - lo > 1) {
            const mid = Math.floor((lo + hi) / 2);
            if (this.ask(mid) === oa) lo = mid;
            else hi = mid;
          }
          a = hi;
          oa = this.ask(hi);
          found.at.push(hi);
          found.offsets.push(oa);
        }
        a = b;
      }
    }
    this.periods.set(p, found);
    return found;
  }

  /** UTC offset at `t`, in milliseconds. */
  offsetAt(t: number): number {
    if (this.zone === null) return 0;
    const { first, at, offsets } = this.period(Math.floor(t / PERIOD));
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid] <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? first : offsets[lo - 1];
  }

  /** Local wall-clock time at `t`, as milliseconds since a local 1970-01-01. */
  wall(t: number): number {
    return t + this.offsetAt(t);
  }

  /** Instants in (a, b] where the offset changes (each the first instant of the new offset), ascending. */
  changesIn(a: number, b: number): number[] {
    if (this.zone === null) return [];
    const changes: number[] = [];
    for (let p = Math.floor(a / PERIOD); p <= Math.floor(b / PERIOD); p++) {
      for (const t of this.period(p).at) if (t > a && t <= b) changes.push(t);
    }
    return changes;
  }

  lastChangeIn(a: number, b: number): number | null {
    const changes = this.changesIn(a, b);
    return changes.length > 0 ? changes[changes.length - 1] : null;
  }

  firstChangeIn(a: number, b: number): number | null {
    const changes = this.changesIn(a, b);
    return changes.length > 0 ? changes[0] : null;
  }

  /** The first instant whose local wall-clock time is `wall` or later. */
  firstInstantAtOrAfter(wall: number): number {
    // Offsets lie within ±16 hours, so every instant before `lo` reads earlier and every one after `hi` later.
    const lo = wall - 16 * HOUR;
    const hi = wall + 16 * HOUR;
    let pieceStart = lo;
    for (const change of [...this.changesIn(lo, hi), Number.POSITIVE_INFINITY]) {
      const candidate = Math.max(pieceStart, wall - this.offsetAt(pieceStart));
      if (candidate < change) return candidate;
      pieceStart = change;
    }
    throw new Error('unreachable: the last piece is unbounded');
  }
}

/** About 398 days: offset changes are found a period at a time. */
const PERIOD = 2 ** 35;
const SAMPLE = DAY;

const timelines = new Map<string, Timeline>();
function timelineOf(zone: string): Timeline {
  let found = timelines.get(zone);
  if (!found) timelines.set(zone, (found = new Timeline(zone)));
  return found;
}
