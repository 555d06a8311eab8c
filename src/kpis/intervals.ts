/**
 * 95% confidence intervals of a change (after − before), pure: Welch's t interval for a difference
 * of means, and Newcombe's hybrid score interval (his method 10, from two Wilson intervals) for a
 * difference of proportions. Newcombe rather than Wald: Wald's interval collapses to a point at 0%
 * or 100% and covers too little with small counts; Newcombe's keeps close to 95% coverage there.
 * Each answers null where no interval can be had, never a division by zero.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface Interval95 {
  low: number;
  high: number;
}

/** One side's values: their count, mean and sample variance (null below two values). */
export interface Sample {
  n: number;
  mean: number | null;
  variance: number | null;
}

/** One side's yes/no outcomes: `successes` of `trials`. */
export interface Counts {
  successes: number;
  trials: number;
}

/** The normal distribution's 97.5% quantile, for a two-sided 95% interval. */
const Z = 1.959963984540054;

/**
 * Welch's interval of after.mean − before.mean: the difference ± t(0.975, ν)·se, with
 * se² = s₁²/n₁ + s₂²/n₂ and ν the Welch–Satterthwaite degrees of freedom. Null with fewer than two
 * values on a side, or no spread on either side (se = 0: no t statistic).
 */
export function welchInterval(before: Sample, after: Sample): Interval95 | null {
  if (before.n < 2 || after.n < 2) return null;
  if (before.mean === null || after.mean === null || before.variance === null || after.variance === null) return null;
  const a = before.variance / before.n;
  const b = after.variance / after.n;
  const se2 = a + b;
  const denominator = (a * a) / (before.n - 1) + (b * b) / (after.n - 1);
  if (!(se2 > 0) || !(denominator > 0)) return null;
  const df = (se2 * se2) / denominator;
  if (!Number.isFinite(df)) return null;
  const half = tQuantile(0.975, df) * Math.sqrt(se2);
  const change = after.mean - before.mean;
  return { low: change - half, high: change + half };
}

/** Wilson's score interval of one proportion. */
export function wilsonInterval({ successes, trials }: Counts): Interval95 {
  const p = successes / trials;
  const z2 = Z * Z;
  const scale = 1 + z2 / trials;
  const center = (p + z2 / (2 * trials)) / scale;
  const half = (Z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / scale;
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/**
 * Newcombe's interval of p_after − p_before, as proportions (0 to 1). Null when a side has no
 * trials, or more successes than trials (then it is a rate, not a proportion).
 */
export function newcombeInterval(before: Counts, after: Counts): Interval95 | null {
  for (const side of [before, after])
    if (!(side.trials >= 1) || side.successes < 0 || side.successes > side.trials) return null;
  const p1 = after.successes / after.trials;
  const p2 = before.successes / before.trials;
  const w1 = wilsonInterval(after);
  const w2 = wilsonInterval(before);
  const change = p1 - p2;
  return {
    low: change - Math.hypot(p1 - w1.low, w2.high - p2),
    high: change + Math.hypot(w1.high - p1, p2 - w2.low),
  };
}

/** Whether the interval excludes 0; null without an interval. */
export const excludesZero = (interval: Interval95 | null): boolean | null =>
  interval === null ? null : interval.low > 0 || interval.high < 0;
