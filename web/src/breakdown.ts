/**
 * The breakdown table: the dashboard's scope cut by one dimension (or by program, for all
 * programs), one row per value with every KPI and a sparkline of the sorted KPI, kept live by its
 * own subscription. Sorting is the server's (orderBy, descending), so the `limit` rows shown are
 * the top ones of the whole scope, not of a page. A click on a row scopes the page to that value.
 */
import type {
  BreakdownArgs,
  ClientBreakdownUpdatedSubscription,
  Kpi,
  MonitoringClient,
  MonitoringError,
  Unsubscribe,
} from '../../src/client/index.js';
import type { Dimension } from './filters.js';
import { formatValue, type KpiInfo } from './format.js';
import './breakdown.css';

type Row = ClientBreakdownUpdatedSubscription['dashboardUpdated']['breakdown'][number];
export type Scope = Omit<BreakdownArgs, 'by' | 'orderBy' | 'descending' | 'limit' | 'series'>;

/** The `by` of a program comparison. */
export const BY_PROGRAM = 'program';
const MAX_ROWS = 50;
/**
 * The server refuses an operation whose estimated cost passes its limit (LIMIT_COST, 50,000 by
 * default), and a breakdown costs rows × buckets × the fields of a point (11 here): a year of
 * days allows about ten rows with series. The page asks for as many rows as fit in this share.
 */
const COST_BUDGET = 40_000;
const POINT_COST = 11;
const HOUR = 3_600_000;
/** The shortest each bucket can be (a DST day has 23 hours), as the server counts them. */
const SHORTEST: Record<string, number> = {
  HOUR,
  DAY: 23 * HOUR,
  WEEK: 7 * 24 * HOUR - HOUR,
  MONTH: 28 * 24 * HOUR - HOUR,
  QUARTER: 89 * 24 * HOUR - HOUR,
  YEAR: 365 * 24 * HOUR - HOUR,
};

function rowLimit(scope: Scope): number {
  const from = scope.from ? new Date(scope.from).getTime() : Number.NaN;
  const to = scope.to ? new Date(scope.to).getTime() : Number.NaN;
  const shortest = SHORTEST[scope.granularity ?? 'DAY'];
  const points = Number.isFinite(from) && Number.isFinite(to) ? Math.ceil((to - from) / shortest) + 1 : 2_000;
  return Math.max(1, Math.min(MAX_ROWS, Math.floor(COST_BUDGET / (12 + points * POINT_COST))));
}

export interface Breakdown {
  /** The dimensions the picker offers; `allPrograms` adds "Program" and makes it the default. */
  setDimensions(dimensions: readonly Dimension[], allPrograms: boolean): void;
  /** (Re)subscribes for the page's scope. */
  show(scope: Scope): void;
  /** The dimension shown now ('' for none). */
  by(): string;
  /** The sort of the rows shown now (for their download). */
  order(): { orderBy: Kpi | null; descending: boolean };
  /** Shows another dimension (after a click has filtered on this one); null: the default. */
  setBy(by: string | null): void;
  stop(): void;
}

export interface BreakdownOptions {
  client: MonitoringClient;
  kpis: KpiInfo[];
  programName: (id: string) => string;
  /** A row was chosen: `by` is its dimension (or BY_PROGRAM), `value` its value. */
  pick: (by: string, value: string) => void;
  /** The events behind a row: `by` its dimension (or BY_PROGRAM), `value` its value, `label` its name. */
  events: (by: string, value: string, label: string) => void;
  /** Values seen in rows, so the filter chips can offer them too. */
  seen: (by: string, value: string) => void;
  onError: (error: MonitoringError) => void;
}

export function createBreakdown(section: HTMLElement, options: BreakdownOptions): Breakdown {
  const { kpis } = options;
  const picker = section.querySelector<HTMLSelectElement>('#by')!;
  const table = section.querySelector<HTMLTableElement>('#breakdown')!;
  const status = section.querySelector<HTMLElement>('#breakdown-status')!;
  let dimensions: Dimension[] = [];
  let allPrograms = false;
  let scope: Scope | null = null;
  let orderBy: Kpi | null = kpis[0]?.key ?? null;
  let descending = true;
  let stop: Unsubscribe | null = null;
  let rows: Row[] = [];
  let limit = MAX_ROWS;
  /** The reader's choice ('' for none); null until they choose: the first dimension, or Program for all programs. */
  let wanted: string | null = null;

  picker.addEventListener('change', () => {
    wanted = picker.value;
    resubscribe();
  });

  const labelOf = (by: string) => (by === BY_PROGRAM ? 'Program' : (dimensions.find((d) => d.key === by)?.label ?? by));
  const sortedKpi = () => kpis.find((k) => k.key === orderBy) ?? kpis[0];

  function fillPicker() {
    const choices = [
      ...(allPrograms ? [{ key: BY_PROGRAM, label: 'Program' }] : []),
      ...dimensions.map((d) => ({ key: d.key, label: d.label })),
    ];
    picker.replaceChildren(new Option('Nothing (no breakdown)', ''), ...choices.map((c) => new Option(c.label, c.key)));
    picker.value = wanted === '' || choices.some((c) => c.key === wanted) ? wanted! : (choices[0]?.key ?? '');
    section.hidden = choices.length === 0;
  }

  function header() {
    const by = picker.value;
    const tr = document.createElement('tr');
    const first = document.createElement('th');
    first.scope = 'col';
    first.textContent = labelOf(by);
    tr.append(first);
    for (const kpi of kpis) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.dataset.kpi = kpi.key;
      const sorted = kpi.key === orderBy;
      th.setAttribute('aria-sort', sorted ? (descending ? 'descending' : 'ascending') : 'none');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      button.textContent = `${kpi.label}${sorted ? (descending ? ' ▼' : ' ▲') : ''}`;
      button.setAttribute('aria-label', `Sort by ${kpi.label}${sorted && descending ? ', ascending' : ''}`);
      button.addEventListener('click', () => {
        descending = kpi.key === orderBy ? !descending : true;
        orderBy = kpi.key;
        resubscribe();
        table.querySelector<HTMLButtonElement>(`th[data-kpi="${kpi.key}"] button`)?.focus();
      });
      th.append(button);
      tr.append(th);
    }
    const trend = document.createElement('th');
    trend.scope = 'col';
    trend.textContent = `Over time (${sortedKpi()?.label ?? ''})`;
    tr.append(trend);
    const events = document.createElement('th');
    events.scope = 'col';
    events.textContent = 'Events';
    tr.append(events);
    const thead = document.createElement('thead');
    thead.append(tr);
    return thead;
  }

  function body() {
    const by = picker.value;
    const spark = sortedKpi();
    const tbody = document.createElement('tbody');
    for (const row of rows) {
      const tr = document.createElement('tr');
      tr.dataset.value = row.value ?? '';
      const name =
        row.value === null
          ? `No ${labelOf(by).toLowerCase()} given`
          : by === BY_PROGRAM
            ? options.programName(row.value)
            : row.value;
      const th = document.createElement('th');
      th.scope = 'row';
      if (row.value === null) {
        // A filter selects values; "without the attribute" is not one, so this row cannot be chosen.
        th.textContent = name;
        th.className = 'quiet';
      } else {
        const value = row.value;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'pick';
        button.textContent = name;
        button.setAttribute('aria-label', `Show only ${labelOf(by)}: ${name}`);
        th.append(button);
        tr.classList.add('pickable');
        tr.addEventListener('click', () => options.pick(by, value));
      }
      tr.append(th);
      for (const kpi of kpis) {
        const td = document.createElement('td');
        td.dataset.kpi = kpi.key;
        td.textContent = formatValue(kpi, row[kpi.field as keyof Row] as number | null | undefined);
        tr.append(td);
      }
      const td = document.createElement('td');
      td.className = 'spark';
      if (spark && row.series)
        td.append(sparkline(row.series.map((p) => p[spark.field as keyof typeof p] as number | null)));
      tr.append(td);
      const cell = document.createElement('td');
      if (row.value !== null) {
        const value = row.value;
        const events = document.createElement('button');
        events.type = 'button';
        events.className = 'drill';
        events.textContent = 'Events';
        events.setAttribute('aria-label', `Events of ${labelOf(by)}: ${name}`);
        events.addEventListener('click', (event) => {
          event.stopPropagation();
          options.events(by, value, `${labelOf(by)}: ${name}`);
        });
        cell.append(events);
      }
      tr.append(cell);
      tbody.append(tr);
    }
    return tbody;
  }

  function render() {
    const focused =
      document.activeElement instanceof HTMLElement && table.contains(document.activeElement)
        ? document.activeElement.closest('tr')?.dataset.value
        : undefined;
    table.replaceChildren(header(), body());
    table.hidden = picker.value === '';
    const by = picker.value;
    status.textContent =
      by === ''
        ? ''
        : rows.length === 0
          ? `No events in this scope to break down by ${labelOf(by).toLowerCase()}.`
          : `${rows.length} ${rows.length === 1 ? 'row' : 'rows'}${rows.length === limit ? ` (the first ${limit})` : ''}, by ${labelOf(by).toLowerCase()}. Choose a row to filter on it.`;
    if (focused !== undefined)
      table.querySelector<HTMLElement>(`tr[data-value="${CSS.escape(focused)}"] .pick`)?.focus();
  }

  function resubscribe() {
    stop?.();
    stop = null;
    rows = [];
    render();
    const by = picker.value;
    if (!scope || by === '') return;
    status.textContent = 'Loading…';
    limit = rowLimit(scope);
    stop = options.client.subscribeBreakdown(
      { ...scope, by, orderBy, descending, limit, series: true },
      {
        next: (dashboard) => {
          rows = dashboard.breakdown;
          for (const row of rows) if (row.value !== null && by !== BY_PROGRAM) options.seen(by, row.value);
          render();
        },
        error: options.onError,
      },
    );
  }

  return {
    setDimensions(next, all) {
      dimensions = [...next];
      allPrograms = all;
      fillPicker();
    },
    show(next) {
      scope = next;
      resubscribe();
    },
    by: () => picker.value,
    order: () => ({ orderBy, descending }),
    setBy(by) {
      wanted = by;
      fillPicker();
    },
    stop() {
      stop?.();
      stop = null;
    },
  };
}

/**
 * A row's trend as a tiny SVG line (hand-drawn: a uPlot per row would cost fifty canvases for a
 * shape without axes). Gaps (buckets without data) break the line.
 */
function sparkline(values: (number | null)[]): SVGSVGElement {
  const width = 120;
  const height = 28;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('aria-hidden', 'true');
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return svg;
  const min = Math.min(...known);
  const max = Math.max(...known);
  const x = (i: number) => (values.length === 1 ? width / 2 : (i / (values.length - 1)) * (width - 2) + 1);
  const y = (v: number) => (max === min ? height / 2 : height - 2 - ((v - min) / (max - min)) * (height - 4));
  let d = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const joined = i > 0 && values[i - 1] !== null;
    d += `${joined ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    // A point between two gaps (or the only one) has no line to show it: a dot does.
    if (!joined && (i === values.length - 1 || values[i + 1] === null)) {
      const dot = document.createElementNS('http://www.w3.org/2000/svg', 'circle');
      dot.setAttribute('cx', x(i).toFixed(1));
      dot.setAttribute('cy', y(v).toFixed(1));
      dot.setAttribute('r', '2');
      svg.append(dot);
    }
  });
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}
