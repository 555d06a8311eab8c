/**
 * Forecasts (issue 20): where a KPI will stand at the end of a running period, with an 80% interval
 * and the probability of meeting a target. Pure: it takes the program's daily history and the
 * period's shape, and reads nothing.
 *
 * The method (README "Forecasts"), chosen so a reviewer can redo it by hand:
 *  1. A KPI is a ratio of two sums that add over days (registry `parts`): resolution days over cases,
 *     satisfied responses over responses, conflicts alone for counts. Each daily series is projected
 *     on its own, and the period's value is (so far + projected rest) of the one over the other.
 *  2. A daily series x is projected as trend × weekday factor × month factor: weekday factors from
 *     the last 12 weeks (each weekday's mean over the overall mean), month factors once the history
 *     holds a whole year (each calendar month's mean of the weekday-adjusted series over the mean of
 *     the last 365 days), a level (mean of the last 28 adjusted days) and a slope (least squares over
 *     the last 91 adjusted days, carried at most 60 days ahead).
 *  3. The interval and the probability come from the method's own errors on the program's history:
 *     at every past day where a period of the same length and elapsed part fits (up to 200 of them,
 *     evenly spaced), the same forecast is made from the days before it and compared with what the
 *     period then was. The 10th and 90th percentiles of those errors (differences for ratios, ratios
 *     for counts) around today's forecast make the 80% interval; the share of errors that would have
 *     left the period meeting its target is meetsTargetProbability.
 * Too little history (null): fewer than MIN_HISTORY_DAYS days before today, or fewer than
 * MIN_BACKTESTS past days at which a period of this shape could be replayed.
 */

/** One whole local day of the program: its calendar place and the KPI's two sums that day. */
export interface Day {
  /** 0 (Monday) to 6 (Sunday). */
  weekday: number;
  /** 0 (January) to 11. */
  month: number;
  part: number;
  /** Null for counts, whose value is the part alone. */
  whole: number | null;
}

/** A day still to come in the period, with the share of it that remains (today's, a period ending mid-day). */
export interface FutureDay {
  weekday: number;
  month: number;
  weight: number;
}

export interface ForecastInput {
  /** Whole days before today, oldest first, ending the day before today. */
  history: Day[];
  /** The period so far (today's part included). */
  soFar: { part: number; whole: number | null };
  /** The rest of the period, from today. */
  future: FutureDay[];
  /** Whole days of the period already elapsed (the backtests replay periods of this shape). */
  elapsedDays: number;
  /** Whether lower is better, and the target, for meetsTargetProbability. */
  better: 'lower' | 'higher';
  target: number | null;
  /** The value from the two sums: `scale × part / whole`, or the part for counts. */
  scale: number;
  range: { min: number; max: number };
}

export interface Forecast {
  value: number;
  low: number;
  high: number;
  meetsTargetProbability: number | null;
  /** How many past periods the interval was learned from. */
  backtests: number;
}

export const MIN_HISTORY_DAYS = 28;
export const MIN_BACKTESTS = 20;
const MAX_BACKTESTS = 200;
const WEEKDAY_WINDOW = 84;
const LEVEL_WINDOW = 28;
const TREND_WINDOW = 91;
const TREND_HORIZON = 60;
const YEAR = 365;

/** Projects a daily series from its past (x[0..n)) onto future days: trend × weekday × month factors. */
export function projector(x: readonly number[], calendar: readonly { weekday: number; month: number }[], n: number) {
  const weekday = new Array<number>(7).fill(1);
  const from = Math.max(0, n - WEEKDAY_WINDOW);
  let total = 0;
  const sums = new Array<number>(7).fill(0);
  const counts = new Array<number>(7).fill(0);
  for (let i = from; i < n; i++) {
    total += x[i];
    sums[calendar[i].weekday] += x[i];
    counts[calendar[i].weekday]++;
  }
  const mean = total / Math.max(1, n - from);
  if (mean > 0) for (let k = 0; k < 7; k++) if (counts[k] > 0) weekday[k] = sums[k] / counts[k] / mean;

  const adjusted = (i: number) => {
    const w = weekday[calendar[i].weekday];
    return w > 0 ? x[i] / w : 0;
  };
  const month = new Array<number>(12).fill(1);
  if (n >= YEAR + LEVEL_WINDOW) {
    const mSums = new Array<number>(12).fill(0);
    const mCounts = new Array<number>(12).fill(0);
    for (let i = 0; i < n; i++) {
      mSums[calendar[i].month] += adjusted(i);
      mCounts[calendar[i].month]++;
    }
    let yearSum = 0;
    for (let i = n - YEAR; i < n; i++) yearSum += adjusted(i);
    const yearMean = yearSum / YEAR;
    if (yearMean > 0) for (let m = 0; m < 12; m++) if (mCounts[m] > 0) month[m] = mSums[m] / mCounts[m] / yearMean;
  }
  const deseasoned = (i: number) => {
    const f = month[calendar[i].month];
    return f > 0 ? adjusted(i) / f : 0;
  };
  let level = 0;
  const levelFrom = Math.max(0, n - LEVEL_WINDOW);
  for (let i = levelFrom; i < n; i++) level += deseasoned(i);
  level /= Math.max(1, n - levelFrom);
  const levelAt = (levelFrom + n - 1) / 2;
  let slope = 0;
  const trendFrom = Math.max(0, n - TREND_WINDOW);
  if (n - trendFrom >= 2 * LEVEL_WINDOW) {
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    const m = n - trendFrom;
    for (let i = trendFrom; i < n; i++) {
      const y = deseasoned(i);
      sx += i;
      sy += y;
      sxx += i * i;
      sxy += i * y;
    }
    const denominator = m * sxx - sx * sx;
    if (denominator > 0) slope = (m * sxy - sx * sy) / denominator;
  }
  /** The projection for the day `ahead` days after the last one seen (1: the next day), at its calendar place. */
  return (ahead: number, day: { weekday: number; month: number }) => {
    // The level stands for the middle of its window; the slope carries it at most TREND_HORIZON days past the last day.
    const distance = n - 1 - levelAt + Math.min(ahead, TREND_HORIZON);
    return Math.max(0, level + slope * distance) * weekday[day.weekday] * month[day.month];
  };
}

/** The value of (part, whole) sums, within the KPI's range; null when the whole is empty. */
function periodValue(part: number, whole: number | null, input: Pick<ForecastInput, 'scale' | 'range'>): number | null {
  const raw = whole === null ? part : whole > 0 ? (input.scale * part) / whole : null;
  if (raw === null || !Number.isFinite(raw)) return null;
  return Math.min(input.range.max, Math.max(input.range.min, raw));
}

/** The projected period value from history days [0, n), so-far sums, and the future days. */
function project(
  history: readonly Day[],
  n: number,
  soFar: { part: number; whole: number | null },
  future: readonly FutureDay[],
  input: Pick<ForecastInput, 'scale' | 'range'>,
): number | null {
  const partOf = projector(
    history.map((d) => d.part),
    history,
    n,
  );
  const counted = soFar.whole !== null;
  const wholeOf = counted
    ? projector(
        history.map((d) => d.whole ?? 0),
        history,
        n,
      )
    : null;
  let part = soFar.part;
  let whole = soFar.whole;
  for (const [i, day] of future.entries()) {
    part += day.weight * partOf(i + 1, day);
    if (wholeOf) whole = (whole ?? 0) + day.weight * wholeOf(i + 1, day);
  }
  return periodValue(part, whole, input);
}

/** The q-quantile of sorted values, interpolated. */
function quantile(sorted: readonly number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Null when the history is too short to say (see the module comment). */
export function forecast(input: ForecastInput): Forecast | null {
  const { history, future, elapsedDays } = input;
  const n = history.length;
  if (n < MIN_HISTORY_DAYS || future.length === 0) return null;
  const point = project(history, n, input.soFar, future, input);
  if (point === null) return null;

  // Backtests: periods of the same shape that ended before today, replayed from the days before them.
  const counted = input.soFar.whole !== null;
  const rest = future.length;
  const origins: number[] = [];
  for (let i = Math.max(MIN_HISTORY_DAYS, elapsedDays); i + rest <= n; i++) origins.push(i);
  if (origins.length < MIN_BACKTESTS) return null;
  const step = origins.length / Math.min(MAX_BACKTESTS, origins.length);
  const errors: number[] = [];
  for (let k = 0; k < origins.length; k += step) {
    const i = origins[Math.floor(k)];
    let part = 0;
    let whole = 0;
    for (let d = i - elapsedDays; d < i; d++) {
      part += history[d].part;
      whole += history[d].whole ?? 0;
    }
    const days = history.slice(i, i + rest).map((d) => ({ weekday: d.weekday, month: d.month, weight: 1 }));
    const predicted = project(history, i, { part, whole: counted ? whole : null }, days, input);
    for (const d of days.keys()) {
      part += history[i + d].part;
      whole += history[i + d].whole ?? 0;
    }
    const realized = periodValue(part, counted ? whole : null, input);
    if (predicted === null || realized === null) continue;
    errors.push(counted ? realized - predicted : Math.log((realized + 1) / (predicted + 1)));
  }
  if (errors.length < MIN_BACKTESTS) return null;
  errors.sort((a, b) => a - b);
  const around = (e: number) => {
    const v = counted ? point + e : (point + 1) * Math.exp(e) - 1;
    return Math.min(input.range.max, Math.max(input.range.min, v));
  };
  const low = around(quantile(errors, 0.1));
  const high = around(quantile(errors, 0.9));
  let meetsTargetProbability: number | null = null;
  if (input.target !== null) {
    const target = input.target;
    const met = errors.filter((e) => {
      const v = around(e);
      return input.better === 'lower' ? v <= target : v >= target;
    }).length;
    meetsTargetProbability = met / errors.length;
  }
  return {
    value: point,
    low: Math.min(low, point),
    high: Math.max(high, point),
    meetsTargetProbability,
    backtests: errors.length,
  };
}
