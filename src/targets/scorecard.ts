/**
 * The scorecard: per KPI, target, actual, previous, status and trend. Actuals come from the same
 * KPI blocks as dashboards; every judgement follows the KPI's direction in the registry.
 */
import type { Context } from '../context.js';
import type { Aggregate } from '../kpis/aggregate.js';
import type { ProgramRef } from '../kpis/kpi.service.js';
import { KPIS, meets, kpi, type KpiDefinition, type KpiKey } from '../kpis/registry.js';
import type { Interval } from '../kpis/time.js';
import type { AttributeFilter } from '../scope/filter.js';
import type { Forecast } from '../forecasts/forecast.js';
import { scorecardForecasts } from '../forecasts/scorecard-forecasts.js';
import { targetsForPeriod } from './targets.repository.js';

export const TARGET_STATUSES = ['MET', 'NOT_MET', 'ON_TRACK', 'AT_RISK', 'NO_TARGET', 'NO_DATA'] as const;
export type TargetStatus = (typeof TARGET_STATUSES)[number];
export const TRENDS = ['IMPROVING', 'WORSENING', 'STEADY', 'NO_DATA'] as const;
export type Trend = (typeof TRENDS)[number];

export interface ScorecardRow {
  kpi: KpiKey;
  target: number | null;
  actual: number | null;
  previous: number | null;
  status: TargetStatus;
  trend: Trend;
  /** Where the KPI is projected to end a running period (forecasts/forecast.ts); null otherwise. */
  forecast: Forecast | null;
}

export interface Scorecard {
  programId: string;
  period: Interval;
  previousPeriod: Interval;
  running: boolean;
  rows: ScorecardRow[];
}

/**
 * A KPI's value over a period, null without data. A period with no event of any kind has no data
 * even for counts: "0 conflicts" would otherwise claim a met target for a program that reported nothing.
 */
export function kpiValue(definition: KpiDefinition, aggregate: Aggregate): number | null {
  if (aggregate.resCount + aggregate.satCount + aggregate.conflicts === 0) return null;
  return definition.compute(aggregate);
}

/** Ended periods are MET / NOT_MET; running ones ON_TRACK / AT_RISK on the actual so far. */
export function judgeStatus(key: KpiKey, target: number | null, actual: number | null, running: boolean): TargetStatus {
  if (target === null) return 'NO_TARGET';
  if (actual === null) return 'NO_DATA';
  const met = meets(key, actual, target);
  if (running) return met ? 'ON_TRACK' : 'AT_RISK';
  return met ? 'MET' : 'NOT_MET';
}

/** Actual against previous in the KPI's direction; values equal to within float noise are STEADY. */
export function judgeTrend(key: KpiKey, actual: number | null, previous: number | null): Trend {
  if (actual === null || previous === null) return 'NO_DATA';
  if (Math.abs(actual - previous) <= 1e-9 * Math.max(1, Math.abs(actual), Math.abs(previous))) return 'STEADY';
  const better = kpi(key).better === 'lower' ? actual < previous : actual > previous;
  return better ? 'IMPROVING' : 'WORSENING';
}

/** The period of the same length that ends where `period` starts. */
export const periodBefore = (period: Interval): Interval => ({
  start: period.start - (period.end - period.start),
  end: period.start,
});

/**
 * What a running period is compared with: the span as long as the part already elapsed, ending at the
 * period's start (period to date against the period to date before it), so that a count two months
 * into a year is compared with two months, never with a whole year. An ended period keeps
 * `previousPeriod`; one not started yet has nothing elapsed, so nothing to compare with.
 */
export function comparedPeriod(period: Interval, previousPeriod: Interval, now: number): Interval {
  if (period.end <= now) return previousPeriod;
  const elapsed = Math.max(0, now - period.start);
  return { start: period.start - elapsed, end: period.start };
}

/**
 * The scorecard of one program over `period`, compared with `previousPeriod` (which ends at or before
 * it) once the period has ended, and with the elapsed length before it while it runs (comparedPeriod).
 */
export async function buildScorecard(
  ctx: Context,
  program: ProgramRef,
  period: Interval,
  previousPeriod: Interval,
  filter: readonly AttributeFilter[] = [],
): Promise<Scorecard> {
  const now = ctx.services.now();
  const running = period.end > now;
  previousPeriod = comparedPeriod(period, previousPeriod, now);
  // Spans go in time order: the block reader expects its pieces sorted.
  const [blocks, targets] = await Promise.all([
    ctx.loaders.blocks.load({ program, spans: [previousPeriod, period], filter }),
    targetsForPeriod(ctx.services.db, [program.id], period, filter),
  ]);
  const [before, during] = blocks;
  const targetOf = new Map(targets.map((t) => [t.kpi, t.value]));
  const forecasts = await scorecardForecasts(ctx.services.db, program, filter, period, during, targetOf, now);
  const rows = KPIS.map((definition): ScorecardRow => {
    const target = targetOf.get(definition.key) ?? null;
    const actual = kpiValue(definition, during);
    const previous = kpiValue(definition, before);
    return {
      kpi: definition.key,
      target,
      actual,
      previous,
      status: judgeStatus(definition.key, target, actual, running),
      trend: judgeTrend(definition.key, actual, previous),
      forecast: forecasts.get(definition.key) ?? null,
    };
  });
  return { programId: program.id, period, previousPeriod, running, rows };
}
