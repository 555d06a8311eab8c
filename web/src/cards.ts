/** One card per KPI of the registry: its value, its target (when one is set for the period) and its trend. */
import type { DashboardTotalsFragment } from '../../src/client/index.js';
import { formatValue, meets, trendOf, type KpiInfo } from './format.js';

type Totals = DashboardTotalsFragment;

export interface Cards {
  update(current: Totals, previous: Totals | null, running: boolean): void;
}

const TREND_TEXT = { improving: 'Improving', worsening: 'Worsening', steady: 'Steady', none: 'No trend yet' } as const;
const TREND_ARROW = { improving: '▲', worsening: '▼', steady: '▶', none: '' } as const;

export function createCards(list: HTMLElement, kpis: KpiInfo[]): Cards {
  const cards = kpis.map((kpi) => {
    const item = document.createElement('li');
    item.className = 'card';
    item.dataset.kpi = kpi.key;
    const id = `kpi-${kpi.key.toLowerCase()}`;
    item.innerHTML = `<h3 id="${id}"></h3><p class="value" aria-describedby="${id}"></p><p class="target"></p><p class="trend"></p>`;
    item.querySelector('h3')!.textContent = kpi.label;
    list.append(item);
    return {
      kpi,
      item,
      value: item.querySelector<HTMLElement>('.value')!,
      target: item.querySelector<HTMLElement>('.target')!,
      trend: item.querySelector<HTMLElement>('.trend')!,
    };
  });

  return {
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
