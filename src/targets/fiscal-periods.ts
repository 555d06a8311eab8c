/**
 * The US federal fiscal calendar: fiscal year N runs from October 1 of N − 1 to October 1 of N
 * (FY2026 = [2025-10-01, 2026-10-01)), its quarters start in October, January, April and July.
 * Boundaries are local midnights in the program's IANA zone, so a quarter may be an hour short or
 * long across a DST change, just as the program's calendar is.
 */
import { type Interval, localDateOf, localDateStart } from '../kpis/time.js';

export const MIN_FISCAL_YEAR = 1971;
export const MAX_FISCAL_YEAR = 9999;

export interface FiscalPeriod {
  fiscalYear: number;
  /** 1 to 4, or null for the whole year. */
  quarter: number | null;
}

/** Local midnight starting the fiscal quarter (1–4) of `fiscalYear`; quarter 5 is the next year's first. */
function quarterStart(fiscalYear: number, quarter: number, zone: string): number {
  // Q1 starts on October 1 of the previous calendar year; each quarter is three months later.
  return localDateStart(fiscalYear - 1, 10 + 3 * (quarter - 1), 1, zone);
}

/** The instants [start, end) of a fiscal year or quarter in `zone`. */
export function fiscalInterval({ fiscalYear, quarter }: FiscalPeriod, zone: string): Interval {
  return quarter === null
    ? { start: quarterStart(fiscalYear, 1, zone), end: quarterStart(fiscalYear + 1, 1, zone) }
    : { start: quarterStart(fiscalYear, quarter, zone), end: quarterStart(fiscalYear, quarter + 1, zone) };
}

/** The fiscal year and quarter holding instant `t` in `zone` (October–December is Q1 of the next year's FY). */
export function fiscalPeriodOf(t: number, zone: string): { fiscalYear: number; quarter: number } {
  const local = localDateOf(t, zone);
  return {
    fiscalYear: local.month >= 10 ? local.year + 1 : local.year,
    quarter: Math.floor(((local.month + 2) % 12) / 3) + 1,
  };
}

/** The fiscal period just before: the previous year, or the previous quarter (Q1's is the last year's Q4). */
export function previousFiscalPeriod({ fiscalYear, quarter }: FiscalPeriod): FiscalPeriod {
  if (quarter === null) return { fiscalYear: fiscalYear - 1, quarter: null };
  return quarter === 1 ? { fiscalYear: fiscalYear - 1, quarter: 4 } : { fiscalYear, quarter: quarter - 1 };
}
