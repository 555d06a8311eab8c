/**
 * The time-series charts, drawn by uPlot. Which series each chart shows is listed here by the
 * Dashboard field; their names come from the server's KPI registry. Charts only redraw their data
 * on a push, so a live update never rebuilds the page.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ClientScorecardQuery, DashboardFullFragment } from '../../src/client/index.js';
import { formatDate, formatDateTime, formatTick, formatValue, type KpiInfo } from './format.js';

type ScorecardRow = ClientScorecardQuery['scorecard']['rows'][number];

type Point = DashboardFullFragment['series'][number];
type Field = keyof Omit<Point, 'start' | '__typename'>;

interface SeriesSpec {
  field: Field;
  color: string;
  /** Dashed lines tell series apart without relying on colour. */
  dash?: number[];
  scale?: string;
  bars?: boolean;
}

interface ChartSpec {
  id: string;
  title: string;
  series: SeriesSpec[];
  /** Axis label per scale. */
  axes: { scale: string; label: string; side?: 1 | 3 }[];
}

const CHARTS: ChartSpec[] = [
  {
    id: 'resolution',
    title: 'Resolution time',
    series: [
      { field: 'avgResolutionTime', color: '#1f5fbf', scale: 'days' },
      { field: 'p90ResolutionTime', color: '#a4161a', dash: [6, 4], scale: 'days' },
    ],
    axes: [{ scale: 'days', label: 'days' }],
  },
  {
    id: 'satisfaction',
    title: 'Satisfaction',
    series: [
      { field: 'avgSatisfaction', color: '#1b6e33', scale: 'score' },
      { field: 'csat', color: '#6b3fa0', dash: [6, 4], scale: '%' },
    ],
    axes: [
      { scale: 'score', label: 'score (1–5)' },
      { scale: '%', label: 'CSAT %', side: 1 },
    ],
  },
  {
    id: 'conflicts',
    title: 'Conflicts',
    series: [{ field: 'totalConflicts', color: '#8a4b00', scale: 'count', bars: true }],
    axes: [{ scale: 'count', label: 'conflicts' }],
  },
];

type Annotation = DashboardFullFragment['annotations'][number];

export interface Charts {
  update(dashboard: DashboardFullFragment, zone: string): void;
  /**
   * The running period's forecasts (ScorecardRow.forecast, rows with a target), drawn beyond now as
   * dashed bands up to `end` (the period's end, epoch ms); null removes them.
   */
  forecasts(rows: readonly ScorecardRow[] | null, end: number): void;
}

/** One KPI's projection on a chart: the forecast's 80% interval and its value, from `start` to `end` (seconds). */
interface Projection {
  kpi: KpiInfo;
  color: string;
  scale: string;
  value: number;
  low: number;
  high: number;
}

/** `onAnnotation` is called with an annotation's id when its marker is chosen (click, Enter, Space). */
export function createCharts(
  container: HTMLElement,
  kpis: KpiInfo[],
  onAnnotation: (id: string) => void = () => {},
): Charts {
  const labelOf = (field: string) => kpis.find((k) => k.field === field)?.label ?? field;
  const built = CHARTS.map((spec) => {
    const figure = document.createElement('figure');
    figure.className = 'chart';
    const caption = document.createElement('figcaption');
    caption.textContent = spec.title;
    const plotBox = document.createElement('div');
    plotBox.className = 'plot';
    plotBox.setAttribute('role', 'img');
    const summary = document.createElement('p');
    summary.className = 'visually-hidden';
    figure.append(caption, plotBox, summary);
    container.append(figure);
    return { spec, plotBox, summary, plot: null as uPlot | null, zone: '' };
  });
  let annotations: readonly Annotation[] = [];
  let markerZone = 'UTC';
  /** The bucket that holds now, in seconds (null: none in range): shaded and labelled as partial. */
  let partial: { start: number; end: number } | null = null;
  /** Per chart id, the projections of its KPIs that have a running target with a forecast. */
  let projections = new Map<string, Projection[]>();
  let periodEnd = 0;
  const markersOf = (u: uPlot, chartId: string) => {
    placeMarkers(u, annotations, markerZone, onAnnotation);
    placePartial(u, partial);
    placeProjections(u, partial ? (projections.get(chartId) ?? []) : [], partial?.start ?? 0, periodEnd);
  };

  const resize = new ResizeObserver(() => {
    for (const chart of built) chart.plot?.setSize({ width: chart.plotBox.clientWidth, height: chartHeight() });
  });
  resize.observe(container);

  return {
    forecasts(rows, end) {
      periodEnd = end / 1000;
      projections = new Map();
      for (const chart of built) {
        const drawn: Projection[] = [];
        for (const s of chart.spec.series) {
          const kpi = kpis.find((k) => k.field === s.field);
          const row = kpi && rows?.find((r) => r.kpi === kpi.key);
          // A count's forecast is the period's total, not a bucket's: on a per-bucket chart it would mislead.
          if (!kpi || !row?.forecast || row.target === null || kpi.unit === 'COUNT') continue;
          const { value, low, high } = row.forecast;
          drawn.push({ kpi, color: s.color, scale: s.scale ?? 'y', value, low, high });
        }
        if (drawn.length) projections.set(chart.spec.id, drawn);
        chart.plot?.redraw(false);
        chart.plotBox.closest('figure')?.toggleAttribute('data-projected', drawn.length > 0);
      }
    },
    update(dashboard, zone) {
      annotations = dashboard.annotations;
      markerZone = zone;
      const xs = dashboard.series.map((p) => Date.parse(p.start) / 1000);
      // Buckets that have not begun draw nothing (not a zero bar); the one holding now is partial.
      const now = Date.now() / 1000;
      const end = dashboard.to ? Date.parse(dashboard.to) / 1000 : Number.POSITIVE_INFINITY;
      const i = xs.findIndex((x, k) => x <= now && now < (k + 1 < xs.length ? xs[k + 1] : end));
      partial = i < 0 ? null : { start: xs[i], end: i + 1 < xs.length ? xs[i + 1] : Math.min(end, now) };
      for (const chart of built) {
        const data: uPlot.AlignedData = [
          xs,
          ...chart.spec.series.map((s) =>
            dashboard.series.map((p, k) => (xs[k] > now ? null : (p[s.field] as number | null))),
          ),
        ];
        // A new zone changes the axis labels, which uPlot fixes at creation: build the chart again.
        if (!chart.plot || chart.zone !== zone) {
          chart.plot?.destroy();
          chart.plot = new uPlot(
            options(chart.spec, chart.plotBox.clientWidth, zone, labelOf, (u) => markersOf(u, chart.spec.id)),
            data,
            chart.plotBox,
          );
          chart.zone = zone;
        } else chart.plot.setData(data);
        const label = describe(chart.spec, dashboard, labelOf);
        chart.plotBox.setAttribute('aria-label', label);
        chart.summary.textContent = label;
      }
    },
  };
}

const chartHeight = () => (window.innerWidth < 600 ? 200 : 240);

function options(
  spec: ChartSpec,
  width: number,
  zone: string,
  labelOf: (field: string) => string,
  markers: (u: uPlot) => void,
): uPlot.Options {
  return {
    width: Math.max(width, 280),
    height: chartHeight(),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
    cursor: { focus: { prox: 16 } },
    legend: { live: true },
    // Away from the cursor the legend shows the latest point, not "--", which reads as missing data.
    hooks: {
      ready: [showLatest],
      setData: [showLatest],
      setCursor: [(u) => u.cursor.idx == null && showLatest(u)],
      // Annotation markers follow every redraw: new data, a new size, a new scale.
      draw: [markers],
    },
    // Fixed where the unit has bounds, from zero otherwise, so an empty period still draws its axes.
    scales: {
      // Bars are centred on their bucket: half a bucket either side keeps the first and last whole.
      x: { time: true, range: spec.series.some((s) => s.bars) ? halfBucketPadded : undefined },
      score: { range: [1, 5] },
      '%': { range: [0, 100] },
      days: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.15))] },
      count: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil((max ?? 0) * 1.15))] },
    },
    series: [
      // The legend's date, as everywhere on the page (format.ts); the time too for hour buckets.
      { label: 'Date', value: (u, ts) => (ts == null ? '' : legendDate(u, ts, zone)) },
      ...spec.series.map((s) => ({
        label: labelOf(s.field),
        stroke: s.color,
        width: 2,
        dash: s.dash,
        scale: s.scale,
        spanGaps: false,
        fill: s.bars ? `${s.color}55` : undefined,
        paths: s.bars ? uPlot.paths.bars!({ size: [0.6, 40] }) : undefined,
        points: { show: true, size: 5 },
      })),
    ],
    axes: [
      {
        stroke: '#333',
        grid: { stroke: '#e3e3e3' },
        values: (_u, splits, _axis, _space, incr) => splits.map((ts) => formatTick(ts * 1000, zone, incr < 86_400)),
      },
      ...spec.axes.map((a) => ({
        scale: a.scale,
        label: a.label,
        side: a.side ?? 3,
        stroke: '#333',
        grid: { show: a.side !== 1, stroke: '#e3e3e3' },
        // Counts are whole: no 0.5 conflicts on the axis.
        incrs: a.scale === 'count' ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] : undefined,
      })),
    ],
  };
}

/** What a screen reader hears for a chart: its series and their latest values. */
function describe(spec: ChartSpec, dashboard: DashboardFullFragment, labelOf: (field: string) => string): string {
  const points = dashboard.series;
  if (points.length === 0) return `${spec.title}: no data in this period.`;
  const parts = spec.series.map((s) => {
    const last = [...points].reverse().find((p) => p[s.field] !== null && p[s.field] !== 0);
    return `${labelOf(s.field)}: latest ${last ? Number(last[s.field]).toFixed(2) : 'none'}`;
  });
  return `${spec.title}, ${points.length} points. ${parts.join('; ')}.`;
}

/** The legend at the last point that has data (or the last point). */
function showLatest(u: uPlot) {
  const xs = u.data[0];
  if (!xs?.length) return;
  let idx = xs.length - 1;
  while (idx > 0 && u.data.slice(1).every((ys) => ys[idx] == null)) idx--;
  u.setLegend({ idx });
}

/** Hour buckets (points less than a day apart) show the time; longer ones the date. */
function legendDate(u: uPlot, ts: number, zone: string): string {
  const xs = u.data[0];
  const step = xs.length > 1 ? xs[1] - xs[0] : 86_400;
  return step < 86_400 ? formatDateTime(ts * 1000, zone) : formatDate(ts * 1000, zone);
}

function halfBucketPadded(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const xs = u.data[0];
  const half = xs && xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) / 2 : 43_200;
  return [min - half, max + half];
}

/** Shades the bucket that holds now, labelled, so its lower count reads as unfinished, not as a dip. */
function placePartial(u: uPlot, bucket: { start: number; end: number } | null) {
  let band = u.over.querySelector<HTMLElement>('.partial-bucket');
  if (!bucket) {
    band?.remove();
    return;
  }
  if (!band) {
    band = document.createElement('div');
    band.className = 'partial-bucket';
    band.textContent = 'partial';
    band.title = 'This period is still running: its value so far';
    u.over.append(band);
  }
  const left = Math.max(0, u.valToPos(bucket.start, 'x'));
  const right = Math.min(u.over.clientWidth, u.valToPos(bucket.end, 'x'));
  band.style.left = `${left}px`;
  band.style.width = `${Math.max(2, right - left)}px`;
}

/**
 * The projection beyond now: from the start of the bucket holding now to the period's end, a dashed
 * band between the forecast's 80% interval and a dashed line at its value, labelled in words. In the
 * plot's overlay (like the partial bucket), so it follows every redraw; none without a forecast.
 */
function placeProjections(u: uPlot, projections: readonly Projection[], start: number, end: number) {
  const old = [...u.over.querySelectorAll<HTMLElement>('.projection')];
  for (const band of old.slice(projections.length)) band.remove();
  const width = u.over.clientWidth;
  const height = u.over.clientHeight;
  const left = Math.max(0, u.valToPos(start, 'x'));
  const right = Math.min(width, u.valToPos(end, 'x'));
  projections.forEach((p, i) => {
    let band = old[i];
    if (!band) {
      band = document.createElement('div');
      band.className = 'projection';
      band.innerHTML = '<span class="projection-line"></span><span class="projection-label"></span>';
      u.over.append(band);
    }
    const y = (v: number) => Math.min(height, Math.max(0, u.valToPos(v, p.scale)));
    const top = y(Math.max(p.low, p.high));
    const bottom = y(Math.min(p.low, p.high));
    const words = `${p.kpi.label}: projected ${formatValue(p.kpi, p.value)}, 80% between ${formatValue(p.kpi, p.low)} and ${formatValue(p.kpi, p.high)}`;
    band.dataset.kpi = p.kpi.key;
    band.title = words;
    band.style.setProperty('--projection-color', p.color);
    band.style.left = `${left}px`;
    band.style.width = `${Math.max(2, right - left)}px`;
    band.style.top = `${top}px`;
    band.style.height = `${Math.max(2, bottom - top)}px`;
    const line = band.querySelector<HTMLElement>('.projection-line')!;
    line.style.top = `${y(p.value) - top}px`;
    band.querySelector<HTMLElement>('.projection-label')!.textContent = `projected ${formatValue(p.kpi, p.value)}`;
    band.setAttribute('aria-label', words);
    band.setAttribute('role', 'img');
  });
}

/**
 * One marker per annotation on the chart, at its instant: a focusable button (a line across the
 * plot) whose title shows on hover and on keyboard focus; choosing it opens the annotation's impact.
 * Kept in the plot's overlay, so they move with the chart; markers outside the x range are hidden.
 */
function placeMarkers(u: uPlot, annotations: readonly Annotation[], zone: string, choose: (id: string) => void) {
  let layer = u.over.querySelector<HTMLElement>('.annotation-markers');
  if (!layer) {
    layer = document.createElement('div');
    layer.className = 'annotation-markers';
    u.over.append(layer);
  }
  const width = u.over.clientWidth;
  // Markers are kept across redraws (a live push redraws), so one that has the keyboard's focus keeps it.
  const old = new Map(
    [...layer.children].map((m) => [(m as HTMLElement).dataset.annotationId, m as HTMLButtonElement]),
  );
  const markers = annotations.map((annotation) => {
    const at = Date.parse(annotation.at);
    const x = u.valToPos(at / 1000, 'x');
    const when = formatDate(at, zone);
    let marker = old.get(annotation.id);
    if (!marker) {
      marker = document.createElement('button');
      marker.type = 'button';
      marker.className = 'annotation-marker';
      marker.dataset.annotationId = annotation.id;
      const tip = document.createElement('span');
      tip.className = 'annotation-tip';
      tip.setAttribute('aria-hidden', 'true');
      marker.append(tip);
      marker.addEventListener('click', () => choose(annotation.id));
    }
    marker.setAttribute('aria-label', `Annotation: ${annotation.title}, ${when}. Show its impact.`);
    marker.firstElementChild!.textContent = `${annotation.title} · ${when}`;
    marker.style.left = `${x}px`;
    marker.hidden = !(x >= 0 && x <= width);
    // The title opens towards the middle of the chart, so it is never cut at an edge.
    marker.classList.toggle('tip-left', x > width / 2);
    return marker;
  });
  for (const [id, marker] of old) if (!annotations.some((a) => a.id === id)) marker.remove();
  // In time order, so Tab walks them left to right; a marker already in place is not moved (moving drops focus).
  markers.forEach((marker, i) => {
    if (layer.children[i] !== marker) layer.insertBefore(marker, layer.children[i] ?? null);
  });
}
