/**
 * The live dashboard page. It signs in with an API key (kept in sessionStorage, so it lasts as
 * long as the tab), reads the KPI registry and the programs, then holds three live subscriptions
 * over one WebSocket: the dashboard for the chosen period, the period before it (for the trends),
 * and alert transitions. Nothing is polled and nothing reloads.
 */
// First: the locale must be one Intl accepts before any module formats (./locale.ts).
import './locale.js';
import {
  ClientDashboardTotalsUpdatedDocument,
  MonitoringClient,
  MonitoringError,
  type ClientMeQuery,
  type ClientProgramsQuery,
  type DashboardTotalsFragment,
  type Unsubscribe,
} from '../../src/client/index.js';
import { createAlertsPanel, type AlertsPanel } from './alerts.js';
import { createAnnotationsPanel, type AnnotationsPanel } from './annotations.js';
import './annotations.css';
import { BY_PROGRAM, createBreakdown, type Breakdown } from './breakdown.js';
import { createCards, type Cards } from './cards.js';
import { createCharts, type Charts } from './charts.js';
import { createDrillDown, type DrillDown } from './drilldown.js';
import { downloadExport, type ExportScope } from './downloads.js';
import { createFilterChips, mergeDimensions, type Dimension, type FilterChips } from './filters.js';
import type { KpiInfo } from './format.js';
import {
  customRange,
  dateInput,
  describeRange,
  GRANULARITIES,
  presetRange,
  previousRange,
  PRESETS,
  type Granularity,
  type PresetKey,
  type Range,
} from './periods.js';
import './style.css';

const KEY_STORAGE = 'kpi-dashboard-key';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  signIn: $<HTMLElement>('sign-in'),
  signInForm: $<HTMLFormElement>('sign-in-form'),
  keyInput: $<HTMLInputElement>('key'),
  signInError: $<HTMLElement>('sign-in-error'),
  signOut: $<HTMLButtonElement>('sign-out'),
  dashboard: $<HTMLElement>('dashboard'),
  live: $<HTMLElement>('live'),
  program: $<HTMLSelectElement>('program'),
  preset: $<HTMLSelectElement>('preset'),
  from: $<HTMLInputElement>('from'),
  to: $<HTMLInputElement>('to'),
  granularity: $<HTMLSelectElement>('granularity'),
  scope: $<HTMLElement>('scope'),
  updated: $<HTMLElement>('updated'),
  error: $<HTMLElement>('error'),
  cards: $<HTMLElement>('cards'),
  charts: $<HTMLElement>('charts'),
  alerts: $<HTMLElement>('alerts'),
  noAlerts: $<HTMLElement>('no-alerts'),
};

/** A key in the link (`/#key=…`, as the server's start-up message prints) signs in, then leaves the address bar. */
function takeKeyFromLink() {
  const key = new URLSearchParams(location.hash.slice(1)).get('key');
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  history.replaceState(null, '', location.pathname + location.search);
}

function showSignIn(message = '') {
  ui.dashboard.hidden = true;
  ui.signOut.hidden = true;
  ui.signIn.hidden = false;
  ui.signInError.textContent = message;
  ui.keyInput.focus();
}

let session: Session | null = null;

async function start() {
  takeKeyFromLink();
  const apiKey = sessionStorage.getItem(KEY_STORAGE);
  if (!apiKey) return showSignIn();
  const client = new MonitoringClient({
    url: new URL('/graphql', location.href).toString(),
    apiKey,
    retry: { retries: 2 },
    onConnectionChange: (state) =>
      setLive(state === 'connected' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…'),
  });
  try {
    const [me, kpis, programs] = await Promise.all([client.me(), client.kpis(), client.programs()]);
    session = new Session(client, apiKey, me, kpis, programs);
  } catch (error) {
    await client.close();
    sessionStorage.removeItem(KEY_STORAGE);
    const code = error instanceof MonitoringError ? error.code : '';
    showSignIn(
      code === 'UNAUTHENTICATED'
        ? 'That key was not accepted. Check it and try again.'
        : code === 'FORBIDDEN'
          ? 'This key may only record events. Use a VIEWER or ADMIN key to see the dashboard.'
          : `The service could not be reached (${(error as Error).message}).`,
    );
  }
}

function setLive(text: string) {
  ui.live.textContent = text;
  ui.live.dataset.state = text === 'Live' ? 'live' : 'waiting';
}

/** Forecasts read the program's history: the cards ask for them at most this often. */
const FORECAST_EVERY_MS = 30_000;

class Session {
  private readonly cards: Cards;
  private readonly charts: Charts;
  private readonly alerts: AlertsPanel;
  private readonly annotations: AnnotationsPanel;
  private readonly filters: FilterChips;
  private readonly breakdown: Breakdown;
  private readonly drillDown: DrillDown;
  /** What the page shows now: the scope the drill-down and downloads start from. */
  private shown: (ExportScope & { granularity: string; timezone: string }) | null = null;
  private subscriptions: Unsubscribe[] = [];
  private current: DashboardTotalsFragment | null = null;
  private previous: DashboardTotalsFragment | null = null;
  /** When the cards' forecasts were last asked for (they cost a read of the program's history). */
  private forecastAskedAt = 0;
  private forecastTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly client: MonitoringClient,
    private readonly apiKey: string,
    me: ClientMeQuery['me'],
    kpis: KpiInfo[],
    private readonly programs: ClientProgramsQuery['programs'],
  ) {
    ui.signIn.hidden = true;
    ui.dashboard.hidden = false;
    ui.signOut.hidden = false;
    this.fillFilters();
    this.drillDown = createDrillDown($('drilldown'), {
      client,
      apiKey: () => this.apiKey,
      onError: (error) => this.showError(error),
    });
    this.cards = createCards(ui.cards, kpis, (kpi) => this.openEvents(kpi.label, kpi.key));
    this.annotations = createAnnotationsPanel($('annotations-section'), {
      client,
      kpis,
      canAdd: me.role === 'ADMIN',
      program: () => (this.programId === null ? null : { id: this.programId, zone: this.zone }),
      dayStart: (date, zone) => (date ? (customRange(date, date, zone)?.from ?? null) : null),
      onError: (error) => this.showError(error),
    });
    this.charts = createCharts(ui.charts, kpis, (id) => this.annotations.select(id));
    this.alerts = createAlertsPanel(ui.alerts, ui.noAlerts, kpis, {
      canAcknowledge: me.role === 'ADMIN',
      inScope: (alert) => this.programId === null || alert.programId === this.programId,
      acknowledge: async (id) => {
        this.alerts.apply(await client.acknowledgeAlert(id));
      },
      programName: (id) => programs.find((p) => p.id === id)?.name ?? id,
    });
    this.filters = createFilterChips($('attribute-filters'), () => this.subscribe());
    this.breakdown = createBreakdown($('breakdown-section'), {
      client,
      kpis,
      programName: (id) => programs.find((p) => p.id === id)?.name ?? id,
      pick: (by, value) => this.pick(by, value),
      events: (by, value, label) =>
        by === BY_PROGRAM
          ? this.openEvents(label, null, { programId: value })
          : this.openEvents(label, null, { filter: [{ key: by, values: [value] }] }),
      seen: (by, value) => this.filters.offer(by, value),
      onError: (error) => this.showError(error),
    });
    $('dashboard-download').addEventListener('click', () => this.download(null));
    $('breakdown-download').addEventListener('click', () => this.download(this.breakdown.by() || null));
    for (const control of [ui.program, ui.preset, ui.from, ui.to, ui.granularity]) {
      control.addEventListener('change', () => this.onFilterChange(control));
    }
    this.subscribe();
  }

  get programId(): string | null {
    return ui.program.value || null;
  }

  /** The zone the period is cut in: the program's, or UTC for all programs (as the server does). */
  get zone(): string {
    return this.programs.find((p) => p.id === this.programId)?.timezone ?? 'UTC';
  }

  /** The dimensions in scope: the program's, or those of every visible program. */
  private dimensions(): Dimension[] {
    const programId = this.programId;
    return programId === null
      ? mergeDimensions(this.programs.map((p) => p.dimensions))
      : (this.programs.find((p) => p.id === programId)?.dimensions ?? []);
  }

  /** A breakdown row was chosen: scope the page to it, and break down by a dimension not yet filtered on. */
  private pick(by: string, value: string) {
    if (by === BY_PROGRAM) {
      ui.program.value = value;
      this.breakdown.setBy(null);
      this.subscribe();
      return;
    }
    const filtered = new Set([by, ...this.filters.value().map((f) => f.key)]);
    const next = this.dimensions().find((d) => !filtered.has(d.key));
    if (next) this.breakdown.setBy(next.key);
    if (!this.filters.add(by, value)) this.subscribe();
  }

  /** The events behind a card (`kpi`) or a breakdown row (`narrower`: its program, or its value as one more filter). */
  private openEvents(
    title: string,
    kpi: string | null,
    narrower: { programId?: string; filter?: { key: string; values: string[] }[] } = {},
  ) {
    const shown = this.shown;
    if (!shown) return;
    const filter = [...shown.filter.map((f) => ({ key: f.key, values: [...f.values] })), ...(narrower.filter ?? [])];
    this.drillDown.open({
      title,
      kpi,
      scope: { programId: narrower.programId ?? shown.programId, from: shown.from, to: shown.to, filter },
    });
  }

  /** The dashboard's series as CSV, or with `by` its breakdown. */
  private download(by: string | null) {
    const shown = this.shown;
    if (!shown) return;
    const scope: ExportScope = by ? { ...shown, by, ...this.breakdown.order() } : shown;
    const name = `${by ? `breakdown-${by}` : 'dashboard'}-${shown.programId ?? 'all'}.csv`;
    downloadExport('/export/dashboard.csv', scope, this.apiKey, name).catch((error: Error) => {
      ui.error.textContent = error.message;
    });
  }

  private showError(error: Error) {
    ui.error.textContent = error.message;
    if (error instanceof MonitoringError && error.code === 'UNAUTHENTICATED')
      void this.signOut('Your key is no longer accepted. Sign in again.');
  }

  private fillFilters() {
    const option = (value: string, label: string) => new Option(label, value);
    ui.program.replaceChildren(
      option('', 'All programs'),
      // A name that already says its id ("Food Assistance (SNAP)") is not followed by it again.
      ...this.programs.map((p) => option(p.id, programLabel(p))),
    );
    if (this.programs.length === 1) ui.program.value = this.programs[0].id;
    ui.preset.replaceChildren(...PRESETS.map((p) => option(p.key, p.label)));
    ui.preset.value = 'last30';
    ui.granularity.replaceChildren(...GRANULARITIES.map((g) => option(g.key, g.label)));
    ui.granularity.value = 'DAY';
    this.showCustomDates();
  }

  private onFilterChange(control: HTMLElement) {
    if (control === ui.preset) {
      const preset = PRESETS.find((p) => p.key === ui.preset.value)!;
      ui.granularity.value = preset.granularity;
      if (preset.key === 'custom' && !ui.from.value) {
        const range = presetRange('last30', this.zone);
        ui.from.value = dateInput(range.from, this.zone);
        ui.to.value = dateInput(range.to - 1, this.zone);
      }
      this.showCustomDates();
    }
    this.subscribe();
  }

  private showCustomDates() {
    for (const field of document.querySelectorAll<HTMLElement>('.custom')) field.hidden = ui.preset.value !== 'custom';
  }

  private range(): Range | null {
    const key = ui.preset.value as PresetKey;
    return key === 'custom' ? customRange(ui.from.value, ui.to.value, this.zone) : presetRange(key, this.zone);
  }

  /** (Re)subscribes for the chosen program, period, buckets and filters. */
  private subscribe() {
    for (const stop of this.subscriptions) stop();
    this.subscriptions = [];
    this.breakdown.stop();
    this.current = null;
    this.previous = null;
    this.forecastAskedAt = 0;
    if (this.forecastTimer) clearTimeout(this.forecastTimer);
    this.forecastTimer = null;
    this.cards.forecasts(null, 0, this.zone);
    this.charts.forecasts(null, 0);
    ui.error.textContent = '';
    const range = this.range();
    if (!range) {
      ui.error.textContent = 'Choose a start date on or before the end date.';
      return;
    }
    const now = Date.now();
    const running = range.to > now;
    const programId = this.programId;
    const zone = this.zone;
    const programName = this.programs.find((p) => p.id === programId)?.name ?? 'All programs';
    const dimensions = this.dimensions();
    this.filters.setDimensions(dimensions);
    this.breakdown.setDimensions(dimensions, programId === null);
    const filter = this.filters.value();
    const filtered = filter.length ? ` · ${this.filters.describe()}` : '';
    ui.scope.textContent = `${programName}${filtered} · ${describeRange(range, zone)} · ${zone}${running ? ' · period still running' : ''}`;
    const from = new Date(range.from);
    const to = new Date(range.to);
    this.shown = { programId, from, to, filter, granularity: ui.granularity.value, timezone: zone };
    this.drillDown.close();
    const before = previousRange(range, now);
    const onError = (error: MonitoringError) => this.showError(error);

    this.subscriptions.push(
      this.client.subscribeDashboard(
        { programId, from, to, granularity: ui.granularity.value as Granularity, timezone: zone, filter },
        {
          next: (dashboard) => {
            ui.error.textContent = '';
            this.cards.update(dashboard, this.previous, running);
            if (running && programId !== null && dashboard.targets.length > 0)
              this.askForecasts(programId, range, filter);
            this.charts.update(dashboard, zone);
            this.annotations.show(dashboard.annotations, zone);
            this.alerts.replace(dashboard.activeAlerts);
            this.current = dashboard;
            ui.updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
          },
          error: onError,
        },
      ),
      this.client.subscribe(
        // The period before, totals only: the cards' trends move when late events land there too.
        ClientDashboardTotalsUpdatedDocument,
        {
          programId,
          from: new Date(before.from).toISOString(),
          to: new Date(before.to).toISOString(),
          filter: filter.length ? filter : null,
        },
        {
          next: ({ dashboardUpdated }) => {
            this.previous = dashboardUpdated;
            if (this.current) this.cards.update(this.current, this.previous, running);
          },
          error: onError,
        },
      ),
      this.client.subscribeAlerts({ programId }, { next: (alert) => this.alerts.apply(alert), error: onError }),
    );
    this.breakdown.show({
      programId,
      from,
      to,
      granularity: ui.granularity.value as Granularity,
      timezone: zone,
      filter,
    });
  }

  /**
   * A running period with targets: the scorecard's forecasts on the cards, asked for at most every
   * FORECAST_EVERY_MS while pushes arrive (the last push is always followed by one).
   */
  private askForecasts(programId: string, range: Range, filter: ReturnType<FilterChips['value']>) {
    const wait = this.forecastAskedAt + FORECAST_EVERY_MS - Date.now();
    if (this.forecastTimer) return;
    const ask = () => {
      this.forecastTimer = null;
      this.forecastAskedAt = Date.now();
      const zone = this.zone;
      this.client
        .getScorecard(programId, new Date(range.from), new Date(range.to), filter.length ? filter : null)
        .then((card) => {
          if (this.programId !== programId) return;
          this.cards.forecasts(card.rows, range.to, zone);
          this.charts.forecasts(card.rows, range.to);
        })
        .catch((error: MonitoringError) => this.showError(error));
    };
    if (wait <= 0) ask();
    else this.forecastTimer = setTimeout(ask, wait);
  }

  async signOut(message = '') {
    for (const stop of this.subscriptions) stop();
    this.subscriptions = [];
    this.breakdown.stop();
    await this.client.close();
    sessionStorage.removeItem(KEY_STORAGE);
    session = null;
    ui.cards.replaceChildren();
    ui.charts.replaceChildren();
    setLive('Signed out');
    showSignIn(message);
  }
}

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  ui.keyInput.value = '';
  void start();
});
ui.signOut.addEventListener('click', () => void session?.signOut());
// The filters apply as they change; Enter in a date field must not submit (and reload) the page.
$<HTMLFormElement>('filters').addEventListener('submit', (event) => event.preventDefault());

void start();

/** "Housing Assistance (HA)"; a name that already holds its id, or is it, stays as it is. */
export function programLabel(program: { id: string; name: string }): string {
  return program.name === program.id || program.name.includes(`(${program.id})`)
    ? program.name
    : `${program.name} (${program.id})`;
}
