/** One card per KPI of the registry: its value, its target (when one is set for the period) and its trend. */
import type { ClientScorecardQuery, DashboardTotalsFragment } from '../../src/client/index.js';
import { formatDate, formatValue, meets, trendOf, type KpiInfo } from './format.js';

type Totals = DashboardTotalsFragment;
type ScorecardRow = ClientScorecardQuery['scorecard']['rows'][number];

export interface Cards {
  update(current: Totals, previous: Totals | null, running: boolean): void;
  /**
   * The forecasts of a running period's scorecard, shown on the cards with a target; null clears
   * them. `end` is the period's end (exclusive), written as its last day in `zone`.
   */
  forecasts(rows: readonly ScorecardRow[] | null, end: number, zone: string): void;
}

/** "projected 7.9 days by Sep 30, 80% between 7.1 and 8.8; 23% chance of meeting ≤ 7". */
export function describeForecast(kpi: KpiInfo, row: ScorecardRow, end: number, zone: string): string | null {
  const f = row.forecast;
  if (!f || row.target === null) return null;
  const sign = kpi.better === 'LOWER' ? '≤' : '≥';
  const chance =
    f.meetsTargetProbability === null
      ? ''
      : `; ${Math.round(100 * f.meetsTargetProbability)}% chance of meeting ${sign} ${formatValue(kpi, row.target)}`;
  return `projected ${formatValue(kpi, f.value)} by ${formatDate(end - 1, zone)}, 80% between ${formatValue(kpi, f.low)} and ${formatValue(kpi, f.high)}${chance}`;
}

const TREND_TEXT = { improving: 'Improving', worsening: 'Worsening', steady: 'Steady', none: 'No trend yet' } as const;
const TREND_ARROW = { improving: '▲', worsening: '▼', steady: '▶', none: '' } as const;

/** `open(kpi)`: the reader chose a card, to see the events behind it. */
export function createCards(list: HTMLElement, kpis: KpiInfo[], open: (kpi: KpiInfo) => void): Cards {
  const cards = kpis.map((kpi) => {
    const item = document.createElement('li');
    item.className = 'card';
    item.dataset.kpi = kpi.key;
    const id = `kpi-${kpi.key.toLowerCase()}`;
    item.innerHTML = `<h3 id="${id}"></h3><p class="value" aria-describedby="${id}"></p><p class="target"></p><p class="forecast" hidden></p><p class="trend"></p>`;
    item.querySelector('h3')!.textContent = kpi.label;
    // The whole card opens its events; the button inside gives keyboards and screen readers the same.
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'drill';
    button.textContent = 'Events';
    button.setAttribute('aria-label', `Events behind ${kpi.label}`);
    item.append(button);
    item.addEventListener('click', () => open(kpi));
    list.append(item);
    return {
      kpi,
      item,
      value: item.querySelector<HTMLElement>('.value')!,
      target: item.querySelector<HTMLElement>('.target')!,
      trend: item.querySelector<HTMLElement>('.trend')!,
      forecast: item.querySelector<HTMLElement>('.forecast')!,
    };
  });

  return {
    forecasts(rows, end, zone) {
      for (const card of cards) {
        const row = rows?.find((r) => r.kpi === card.kpi.key);
        const text = row ? describeForecast(card.kpi, row, end, zone) : null;
        card.forecast.textContent = text ?? '';
        card.forecast.hidden = text === null;
        if (text !== null && row?.forecast?.meetsTargetProbability != null)
          card.forecast.dataset.risk = row.forecast.meetsTargetProbability < 0.5 ? 'at-risk' : 'likely';
        else delete card.forecast.dataset.risk;
      }
    },
    update(current, previous, running) {
      for (const card of cards) {
        const { kpi } = card;
        const value = current[kpi.field as keyof Totals] as number | null;
        card.value.textContent = formatValue(kpi, value);

        // One target applies when the period is exactly a target's and one program is shown.
        const targets = current.targets.filter((t) => t.kpi === kpi.key);
        if (targets.length === 1) {
          const target = targets[0].value;
          const sign = kpi.better === 'LOWER' ? '≤' : '≥';
          const status =
            value == null
              ? 'no data yet'
              : meets(kpi, value, target)
                ? running
                  ? 'on track'
                  : 'met'
                : running
                  ? 'at risk'
                  : 'not met';
          card.target.textContent = `Target ${sign} ${formatValue(kpi, target)} · ${status}`;
          card.target.dataset.status = status.replace(/ /g, '-');
        } else {
          card.target.textContent = 'No target for this period';
          delete card.target.dataset.status;
        }

        const before = hasData(previous) ? (previous[kpi.field as keyof Totals] as number | null) : null;
        const trend = trendOf(kpi, value, before);
        card.trend.dataset.trend = trend;
        card.trend.textContent =
          trend === 'none'
            ? TREND_TEXT.none
            : `${TREND_ARROW[trend]} ${TREND_TEXT[trend]} (${running ? 'same span before' : 'previous period'} ${formatValue(kpi, before)})`;
      }
    },
  };
}

/**
 * A period without a single event has no data, not zero conflicts: as in the server's scorecard,
 * so that "0 conflicts before" never makes a trend out of silence.
 */
function hasData(totals: Totals | null): totals is Totals {
  return totals !== null && totals.resolvedCases + totals.satisfactionResponses + totals.totalConflicts > 0;
}
