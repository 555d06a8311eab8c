/** How the page writes a KPI: by the unit and direction the server's registry gives (`kpis` query). */
import type { ClientKpisQuery } from '../../src/client/index.js';

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
