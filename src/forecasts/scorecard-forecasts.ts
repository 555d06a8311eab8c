/**
 * Forecasts for a scorecard's rows (issue 20): reads the program's daily history (local days, in its
 * zone and filter) and hands each KPI's sums to the pure method in forecast.ts.
 */
import { IANAZone } from 'luxon';
import type { Executor } from '../db/types.js';
import type { Aggregate } from '../kpis/aggregate.js';
import { aggregateFiltered } from '../kpis/filtered.js';
import { eventTimeBounds, type ProgramRef } from '../kpis/kpi.service.js';
import { KPIS, type KpiKey } from '../kpis/registry.js';
import { bucketStart, DAY, type Interval, nextBucketStart } from '../kpis/time.js';
import type { AttributeFilter } from '../scope/filter.js';
import { type Day, type Forecast, forecast, type FutureDay } from './forecast.js';

/** History read for a forecast: at most three years of days, so yearly patterns are seen twice or more. */
export const HISTORY_DAYS = 3 * 366;

function calendarOf(t: number, zone: IANAZone): { weekday: number; month: number } {
  const wall = new Date(t + zone.offset(t) * 60_000);
  return { weekday: (wall.getUTCDay() + 6) % 7, month: wall.getUTCMonth() };
}

/**
 * Each KPI's forecast for `period` at `now`, given the period so far (`soFar`) and targets by KPI.
 * Every row is null for a period that has ended or not started, and without history.
 */
export async function scorecardForecasts(
  db: Executor,
  program: ProgramRef,
  filter: readonly AttributeFilter[],
  period: Interval,
  soFar: Aggregate,
  targets: ReadonlyMap<string, number>,
  now: number,
  /** The KPIs to forecast (all by default): an early-warning rule needs one. */
  keys: readonly KpiKey[] = KPIS.map((k) => k.key),
): Promise<Map<KpiKey, Forecast | null>> {
  const none = new Map<KpiKey, Forecast | null>(KPIS.map((k) => [k.key, null]));
  if (now <= period.start || now >= period.end) return none;
  const bounds = await eventTimeBounds(db, [program.id]);
  if (!bounds) return none;
  const zone = IANAZone.create(program.timezone);
  const today = bucketStart(now, 'DAY', program.timezone);
  const first = Math.max(bucketStart(bounds.start, 'DAY', program.timezone), today - HISTORY_DAYS * DAY);
  const spans: Interval[] = [];
  for (let d = bucketStart(first, 'DAY', program.timezone); d < today; ) {
    const next = nextBucketStart(d, 'DAY', program.timezone);
    spans.push({ start: d, end: next });
    d = next;
  }
  const future: FutureDay[] = [];
  for (let d = today; d < period.end; ) {
    const next = nextBucketStart(d, 'DAY', program.timezone);
    const weight = (Math.min(next, period.end) - Math.max(d, now)) / (next - d);
    if (weight > 0) future.push({ ...calendarOf(d, zone), weight });
    d = next;
  }
  const days = spans.length === 0 ? [] : (await aggregateFiltered(db, [program], filter, spans, now)).get(program.id)!;
  const calendar = spans.map((s) => calendarOf(s.start, zone));
  const elapsedDays = Math.max(0, Math.round((today - bucketStart(period.start, 'DAY', program.timezone)) / DAY));
  const result = new Map<KpiKey, Forecast | null>();
  for (const k of KPIS.filter((d) => keys.includes(d.key))) {
    const history: Day[] = days.map((a, i) => {
      const p = k.parts(a);
      return { ...calendar[i], part: p.part, whole: p.whole };
    });
    const now = k.parts(soFar);
    result.set(
      k.key,
      forecast({
        history,
        soFar: { part: now.part, whole: now.whole },
        future,
        elapsedDays,
        better: k.better,
        target: targets.get(k.key) ?? null,
        scale: now.scale,
        range: k.range,
      }),
    );
  }
  return result;
}
