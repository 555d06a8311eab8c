/**
 * What a TARGET_AT_RISK rule judges for one running target (issue 20): its forecast's probability of
 * being met, with the target's actual so far and its period-to-date comparison, for the webhook.
 */
import type { Db } from '../db/types.js';
import type { Forecast } from '../forecasts/forecast.js';
import { scorecardForecasts } from '../forecasts/scorecard-forecasts.js';
import type { Aggregate } from '../kpis/aggregate.js';
import { aggregateFiltered } from '../kpis/filtered.js';
import type { ProgramRef } from '../kpis/kpi.service.js';
import { kpi } from '../kpis/registry.js';
import type { Interval } from '../kpis/time.js';
import { comparedPeriod, kpiValue, periodBefore } from '../targets/scorecard.js';
import type { Target } from '../targets/targets.repository.js';

export interface TargetWarning {
  target: Target;
  /** meetsTargetProbability; null when the history is too short to say (the alert then stays as it is). */
  probability: number | null;
  actual: number | null;
  previous: number | null;
  previousPeriod: Interval;
  forecast: Forecast | null;
}

export async function targetWarning(db: Db, program: ProgramRef, target: Target, now: number): Promise<TargetWarning> {
  const period = { start: target.starts_at, end: target.ends_at };
  const previousPeriod = comparedPeriod(period, periodBefore(period), now);
  const spans = [previousPeriod, { start: period.start, end: now }].filter((s) => s.start < s.end);
  const read = (await aggregateFiltered(db, [program], target.filter, spans, now)).get(program.id)!;
  const [before, during]: (Aggregate | undefined)[] = spans.length === 2 ? read : [undefined, read[0]];
  const definition = kpi(target.kpi);
  const forecasts = during
    ? await scorecardForecasts(db, program, target.filter, period, during, new Map([[target.kpi, target.value]]), now, [
        target.kpi,
      ])
    : null;
  const forecast = forecasts?.get(target.kpi) ?? null;
  return {
    target,
    probability: forecast?.meetsTargetProbability ?? null,
    actual: during ? kpiValue(definition, during) : null,
    previous: before ? kpiValue(definition, before) : null,
    previousPeriod,
    forecast,
  };
}
