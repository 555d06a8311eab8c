/** How the page writes a KPI: by the unit and direction the server's registry gives (`kpis` query). */
import type { ClientKpisQuery } from '../../src/client/index.js';
import { LOCALE } from './locale.js';

export type KpiInfo = ClientKpisQuery['kpis'][number];

export function formatValue(kpi: KpiInfo, value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  switch (kpi.unit) {
    case 'DAYS':
      return `${value.toFixed(1)} days`;
    case 'SCORE':
      return `${value.toFixed(2)} / 5`;
    case 'PERCENT':
      return `${value.toFixed(1)}%`;
    case 'COUNT':
      return Math.round(value).toLocaleString('en-US');
  }
}

/** Whether `actual` meets `target` in the KPI's direction; equal meets (as the scorecards judge). */
export const meets = (kpi: KpiInfo, actual: number, target: number) =>
  kpi.better === 'LOWER' ? actual <= target : actual >= target;

export type TrendWord = 'improving' | 'worsening' | 'steady' | 'none';

/** The current value against the previous period's, in the KPI's direction. */
export function trendOf(
  kpi: KpiInfo,
  current: number | null | undefined,
  previous: number | null | undefined,
): TrendWord {
  if (current == null || previous == null) return 'none';
  if (current === previous) return 'steady';
  return current < previous === (kpi.better === 'LOWER') ? 'improving' : 'worsening';
}

/**
 * The page's one way of writing dates: the browser's locale (LOCALE), in the dashboard's zone.
 * Ranges, alerts, chart legends and axes all use these, so one screen never mixes formats.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${zone ?? ''}|${JSON.stringify(options)}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(LOCALE, { ...options, timeZone: zone });
    dateFormats.set(key, format);
  }
  return format;
}

/** "Oct 1, 2025" in en-US, "1 Oct 2025" in en-GB. */
export const formatDate = (t: number, zone?: string) => formatter(zone, { dateStyle: 'medium' }).format(t);

/** The date as above, with the time. */
export const formatDateTime = (t: number, zone?: string) =>
  formatter(zone, { dateStyle: 'medium', timeStyle: 'short' }).format(t);

/** A chart tick: the day and month ("Oct 1"), or the time when the ticks are hours apart. */
export const formatTick = (t: number, zone: string, hours: boolean) =>
  formatter(zone, hours ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric' }).format(t);
