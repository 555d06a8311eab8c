/**
 * The KPI registry: every KPI's key, label, unit, direction and formula. Dashboards, alerts,
 * targets, scorecards and the page read this one table; adding a KPI is one entry here.
 */
import type { Aggregate } from './aggregate.js';
import type { Counts, Sample } from './intervals.js';

export type KpiKey =
  | 'AVG_RESOLUTION_TIME'
  | 'MEDIAN_RESOLUTION_TIME'
  | 'P90_RESOLUTION_TIME'
  | 'AVG_SATISFACTION'
  | 'CSAT'
  | 'TOTAL_CONFLICTS'
  | 'CONFLICT_RATE'
  | 'WITHIN_STANDARD';

/** The kinds of raw event, in the order of the EventKind enum. */
export const EVENT_KINDS = ['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * What a KPI is computed from: an Aggregate, or the answers a rollup row stores beside its sums
 * (kpis/row-answers.ts), which a series point that is one stored row is read as.
 */
export interface KpiInputs {
  readonly resCount: number;
  readonly satCount: number;
  readonly satPositive: number;
  readonly conflicts: number;
  readonly resJudged: number;
  readonly resWithin: number;
  resMean(): number | null;
  satMean(): number | null;
  resPercentile(q: Percentile): number | null;
}

/** Resolution times are days, up to a century (service standards too). */
export const RESOLUTION_DAYS = { min: 0, max: 36_500 };
const SATISFACTION_SCORE = { min: 1, max: 5 };

/** The values each kind of event carries, inclusive; null for a kind that carries none. */
export const EVENT_VALUE_RANGES: Readonly<Record<EventKind, { min: number; max: number } | null>> = {
  RESOLUTION_TIME: RESOLUTION_DAYS,
  SATISFACTION: SATISFACTION_SCORE,
  CONFLICT: null,
};

export interface KpiDefinition {
  key: KpiKey;
  /** The Dashboard field that carries it. */
  field: string;
  label: string;
  unit: 'days' | 'score' | 'percent' | 'count';
  /** Which way is better: lower for times and conflicts, higher for satisfaction. */
  better: 'lower' | 'higher';
  /** Values a target may take. */
  range: { min: number; max: number };
  compute(inputs: KpiInputs): number | null;
  /**
   * How the 95% interval of a change in it is had (impact, kpis/intervals.ts): Welch's for a mean
   * (from its sample), Newcombe's for a percentage of yes/no outcomes (from its counts; the KPI is
   * 100 × successes / trials); null for counts and percentiles, which get none.
   */
  interval: KpiInterval | null;
  /**
   * The KPI as two sums that add over days, for forecasts (src/forecasts): its value is
   * `scale × part ÷ whole`, or the part alone where `whole` is null (counts). A percentile is taken
   * as the day's percentile times its cases, an approximation: percentiles do not add.
   */
  parts(aggregate: Aggregate): Parts;
}

export type KpiInterval =
  | { kind: 'mean'; sample(aggregate: Aggregate): Sample }
  | { kind: 'proportion'; counts(aggregate: Aggregate): Counts };

export interface Parts {
  part: number;
  whole: number | null;
  scale: number;
}

const mean = (sum: number, count: number): Parts => ({ part: sum, whole: count, scale: 1 });
const percent = (part: number, whole: number): Parts => ({ part, whole, scale: 100 });
const percentile = (q: Percentile) => (a: Aggregate) => mean((a.resPercentile(q) ?? 0) * a.resCount, a.resCount);

/**
 * The percentiles KPIs ask of the resolution-time histogram. Rollup rows store their answers
 * (kpis/rollups.repository.ts), so a series point that is one stored row needs no scan of its bins;
 * a percentile not listed here is still answered, from the bins.
 */
export const PERCENTILES = [0.5, 0.9] as const;
export type Percentile = (typeof PERCENTILES)[number];

const ratio = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);

/** In the order of the Kpi enum. */
export const KPIS: readonly KpiDefinition[] = [
  {
    key: 'AVG_RESOLUTION_TIME',
    field: 'avgResolutionTime',
    label: 'Average resolution time',
    unit: 'days',
    better: 'lower',
    range: RESOLUTION_DAYS,
    compute: (a) => a.resMean(),
    interval: { kind: 'mean', sample: (a) => ({ n: a.resCount, mean: a.resMean(), variance: a.resVariance() }) },
    parts: (a) => mean(a.resSum.value(), a.resCount),
  },
  {
    key: 'MEDIAN_RESOLUTION_TIME',
    field: 'medianResolutionTime',
    label: 'Median resolution time',
    unit: 'days',
    better: 'lower',
    range: RESOLUTION_DAYS,
    compute: (a) => a.resPercentile(PERCENTILES[0]),
    interval: null,
    parts: percentile(PERCENTILES[0]),
  },
  {
    key: 'P90_RESOLUTION_TIME',
    field: 'p90ResolutionTime',
    label: '90th percentile resolution time',
    unit: 'days',
    better: 'lower',
    range: RESOLUTION_DAYS,
    compute: (a) => a.resPercentile(PERCENTILES[1]),
    interval: null,
    parts: percentile(PERCENTILES[1]),
  },
  {
    key: 'AVG_SATISFACTION',
    field: 'avgSatisfaction',
    label: 'Average satisfaction',
    unit: 'score',
    better: 'higher',
    range: SATISFACTION_SCORE,
    compute: (a) => a.satMean(),
    interval: { kind: 'mean', sample: (a) => ({ n: a.satCount, mean: a.satMean(), variance: a.satVariance() }) },
    parts: (a) => mean(a.satSum.value(), a.satCount),
  },
  {
    key: 'CSAT',
    field: 'csat',
    label: 'CSAT (scores of 4 or more)',
    unit: 'percent',
    better: 'higher',
    range: { min: 0, max: 100 },
    compute: (a) => ratio(a.satPositive, a.satCount),
    interval: { kind: 'proportion', counts: (a) => ({ successes: a.satPositive, trials: a.satCount }) },
    parts: (a) => percent(a.satPositive, a.satCount),
  },
  {
    key: 'TOTAL_CONFLICTS',
    field: 'totalConflicts',
    label: 'Conflicts',
    unit: 'count',
    better: 'lower',
    range: { min: 0, max: Number.MAX_SAFE_INTEGER },
    compute: (a) => a.conflicts,
    interval: null,
    parts: (a) => ({ part: a.conflicts, whole: null, scale: 1 }),
  },
  {
    key: 'CONFLICT_RATE',
    field: 'conflictRate',
    label: 'Conflicts per 100 resolved cases',
    unit: 'percent',
    better: 'lower',
    range: { min: 0, max: Number.MAX_SAFE_INTEGER },
    compute: (a) => ratio(a.conflicts, a.resCount),
    // A proportion while conflicts ≤ cases; above that a rate, and no interval (intervals.ts).
    interval: { kind: 'proportion', counts: (a) => ({ successes: a.conflicts, trials: a.resCount }) },
    parts: (a) => percent(a.conflicts, a.resCount),
  },
  {
    // Counted exactly against each event's own program's standard (Aggregate.resWithin); programs
    // without a standard are left out, and with none at all the KPI has no data.
    key: 'WITHIN_STANDARD',
    field: 'withinStandard',
    label: 'Resolved within the service standard',
    unit: 'percent',
    better: 'higher',
    range: { min: 0, max: 100 },
    compute: (a) => ratio(a.resWithin, a.resJudged),
    interval: { kind: 'proportion', counts: (a) => ({ successes: a.resWithin, trials: a.resJudged }) },
    parts: (a) => percent(a.resWithin, a.resJudged),
  },
];

export const KPI_KEYS = KPIS.map((k) => k.key);

export function kpi(key: KpiKey): KpiDefinition {
  return KPIS.find((k) => k.key === key)!;
}

/** Whether `actual` meets `target` in the KPI's direction; equal meets. */
export function meets(key: KpiKey, actual: number, target: number): boolean {
  return kpi(key).better === 'lower' ? actual <= target : actual >= target;
}
