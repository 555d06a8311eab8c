/**
 * The page's date ranges, cut at local midnights in the dashboard's zone (the program's, or UTC
 * for all programs) like the server cuts its buckets. The fiscal year comes from the server's own
 * fiscal calendar module, so the page and the scorecards agree on where FY2026 starts.
 */
import { DateTime } from 'luxon';
import { fiscalInterval, fiscalPeriodOf } from '../../src/targets/fiscal-periods.js';
import { formatDate } from './format.js';

export type Granularity = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';
export type PresetKey = 'last7' | 'last30' | 'last90' | 'quarter' | 'fiscalYear' | 'custom';

export interface Range {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export const PRESETS: { key: PresetKey; label: string; granularity: Granularity }[] = [
  { key: 'last7', label: 'Last 7 days', granularity: 'DAY' },
  { key: 'last30', label: 'Last 30 days', granularity: 'DAY' },
  { key: 'last90', label: 'Last 90 days', granularity: 'WEEK' },
  { key: 'quarter', label: 'This quarter', granularity: 'WEEK' },
  { key: 'fiscalYear', label: 'This federal fiscal year (Oct 1 – Sep 30)', granularity: 'MONTH' },
  { key: 'custom', label: 'Custom dates', granularity: 'DAY' },
];

export const GRANULARITIES: { key: Granularity; label: string }[] = [
  { key: 'HOUR', label: 'Hour' },
  { key: 'DAY', label: 'Day' },
  { key: 'WEEK', label: 'Week' },
  { key: 'MONTH', label: 'Month' },
  { key: 'QUARTER', label: 'Quarter' },
  { key: 'YEAR', label: 'Year' },
];

/** A preset's range at `now`; "last N days" ends with today (whole days, so buckets are whole). */
export function presetRange(key: Exclude<PresetKey, 'custom'>, zone: string, now = Date.now()): Range {
  const today = DateTime.fromMillis(now, { zone }).startOf('day');
  const tomorrow = today.plus({ days: 1 }).toMillis();
  switch (key) {
    case 'last7':
      return { from: today.minus({ days: 6 }).toMillis(), to: tomorrow };
    case 'last30':
      return { from: today.minus({ days: 29 }).toMillis(), to: tomorrow };
    case 'last90':
      return { from: today.minus({ days: 89 }).toMillis(), to: tomorrow };
    case 'quarter': {
      // Federal fiscal quarters fall on calendar quarters (Q1 is October–December).
      const { start, end } = fiscalInterval(fiscalPeriodOf(now, zone), zone);
      return { from: start, to: end };
    }
    case 'fiscalYear': {
      const { start, end } = fiscalInterval({ fiscalYear: fiscalPeriodOf(now, zone).fiscalYear, quarter: null }, zone);
      return { from: start, to: end };
    }
  }
}

/** A custom range from two dates (yyyy-mm-dd, the end date included); null until both make sense. */
export function customRange(fromDate: string, toDate: string, zone: string): Range | null {
  const from = DateTime.fromISO(fromDate, { zone });
  const to = DateTime.fromISO(toDate, { zone }).plus({ days: 1 });
  if (!from.isValid || !to.isValid || to <= from) return null;
  return { from: from.toMillis(), to: to.toMillis() };
}

/**
 * What the cards' trends compare with, as the scorecards do: the period of the same length just
 * before; for a period still running, the span as long as the part elapsed by `now`, ending at its
 * start (period to date against the period to date before it).
 */
export function previousRange({ from, to }: Range, now: number): Range {
  const length = to > now ? Math.max(0, now - from) : to - from;
  return { from: from - length, to: from };
}

export const dateInput = (t: number, zone: string) => DateTime.fromMillis(t, { zone }).toISODate() ?? '';

/** "Oct 1, 2025 – Sep 30, 2026" (in the browser's locale): the end shown inclusive, as people read ranges. */
export function describeRange({ from, to }: Range, zone: string): string {
  return `${formatDate(from, zone)} – ${formatDate(to - 1, zone)}`;
}
