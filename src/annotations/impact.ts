/**
 * Impact: how each KPI moved across an annotated change, the `days` before its instant against the
 * `days` after it (the part after now not counted), with the 95% interval of the change for the
 * KPIs the registry gives one. The rows are a pure function of the two sides' aggregates.
 */
import type { Context } from '../context.js';
import { Aggregate } from '../kpis/aggregate.js';
import { aggregateFiltered } from '../kpis/filtered.js';
import { excludesZero, type Interval95, newcombeInterval, welchInterval } from '../kpis/intervals.js';
import { KPIS, type KpiDefinition, type KpiKey } from '../kpis/registry.js';
import { DAY, type Interval } from '../kpis/time.js';
import { badInput } from '../schema/errors.js';
import { checkedScope, type ScopeArgs } from '../scope/scope.js';
import { kpiValue } from '../targets/scorecard.js';
import type { Annotation } from './annotations.repository.js';

export const MAX_IMPACT_DAYS = 365;

export interface ImpactRow {
  kpi: KpiKey;
  before: number | null;
  after: number | null;
  change: number | null;
  low: number | null;
  high: number | null;
  significant: boolean | null;
}

export interface Impact {
  annotation: Annotation;
  before: Interval;
  /** Ends at `at + days`, or at now when that is sooner (at `at` for an annotation still ahead: empty). */
  after: Interval;
  rows: ImpactRow[];
}

/**
 * The two sides of an annotation at `at`: [at − days, at) and [at, at + days), days of 24 hours so
 * both sides are equally long in every zone; the after side stops at now.
 */
export function impactWindows(at: number, days: number, now: number): { before: Interval; after: Interval } {
  return {
    before: { start: at - days * DAY, end: at },
    after: { start: at, end: Math.max(at, Math.min(at + days * DAY, now)) },
  };
}

/** The 95% interval of a change in `definition`, as the registry says; null where it gives none. */
export function changeInterval(definition: KpiDefinition, before: Aggregate, after: Aggregate): Interval95 | null {
  const spec = definition.interval;
  if (spec === null) return null;
  if (spec.kind === 'mean') return welchInterval(spec.sample(before), spec.sample(after));
  const interval = newcombeInterval(spec.counts(before), spec.counts(after));
  // The KPI is a percentage: 100 × the proportion.
  return interval && { low: 100 * interval.low, high: 100 * interval.high };
}

/** One row per KPI of the registry, in its order. */
export function impactRows(before: Aggregate, after: Aggregate): ImpactRow[] {
  return KPIS.map((definition) => {
    const b = kpiValue(definition, before);
    const a = kpiValue(definition, after);
    const interval = b === null || a === null ? null : changeInterval(definition, before, after);
    return {
      kpi: definition.key,
      before: b,
      after: a,
      change: b === null || a === null ? null : a - b,
      low: interval?.low ?? null,
      high: interval?.high ?? null,
      significant: excludesZero(interval),
    };
  });
}

/** `days` checked: a whole number from 1 to 365. */
export function checkDays(days: number | null | undefined): number {
  const value = days ?? 30;
  if (!Number.isInteger(value) || value < 1 || value > MAX_IMPACT_DAYS)
    throw badInput('days', `must be a whole number from 1 to ${MAX_IMPACT_DAYS} (got ${value})`);
  return value;
}

/**
 * The impact of a visible annotation (the caller's access checked by the caller of this), in its
 * program and `filter` (checked like every scope).
 */
export async function computeImpact(
  ctx: Context,
  annotation: Annotation,
  days: number,
  filter: ScopeArgs['filter'],
): Promise<Impact> {
  const scope = await checkedScope(ctx, { programId: annotation.program_id, filter });
  const program = scope.programs[0];
  const now = ctx.services.now();
  const { before, after } = impactWindows(annotation.at, days, now);
  // An empty after side (an annotation still ahead) is not read: it holds nothing.
  const spans = after.end > after.start ? [before, after] : [before];
  const read = await aggregateFiltered(ctx.services.db, [program], scope.filter, spans, now);
  const [beforeAggregate, afterAggregate] = read.get(program.id)!;
  return {
    annotation,
    before,
    after,
    rows: impactRows(beforeAggregate, afterAggregate ?? new Aggregate()),
  };
}
