/**
 * The events behind a number: a KPI card or a breakdown row opens the raw events of its scope
 * (`events(…)`), worst first where "worst" means something (slowest resolutions, lowest scores),
 * paged by cursor, with case id and attributes, and a download of all of them as CSV.
 */
import type { ClientEventsQuery, EventKind, EventOrder, Filter, MonitoringClient } from '../../src/client/index.js';
import { downloadExport, type ExportScope } from './downloads.js';
import { LOCALE } from './locale.js';

type EventNode = ClientEventsQuery['events']['edges'][number]['node'];

const PAGE = 50;

/** Which events a KPI is computed from, and which of them a reader wants first. */
const BEHIND: Record<string, { kinds: EventKind[]; orderBy: EventOrder; order: string }> = {
  AVG_RESOLUTION_TIME: { kinds: ['RESOLUTION_TIME'], orderBy: 'VALUE_DESC', order: 'slowest first' },
  MEDIAN_RESOLUTION_TIME: { kinds: ['RESOLUTION_TIME'], orderBy: 'VALUE_DESC', order: 'slowest first' },
  P90_RESOLUTION_TIME: { kinds: ['RESOLUTION_TIME'], orderBy: 'VALUE_DESC', order: 'slowest first' },
  WITHIN_STANDARD: { kinds: ['RESOLUTION_TIME'], orderBy: 'VALUE_DESC', order: 'slowest first' },
  AVG_SATISFACTION: { kinds: ['SATISFACTION'], orderBy: 'VALUE_ASC', order: 'lowest score first' },
  CSAT: { kinds: ['SATISFACTION'], orderBy: 'VALUE_ASC', order: 'lowest score first' },
  TOTAL_CONFLICTS: { kinds: ['CONFLICT'], orderBy: 'OCCURRED_AT_DESC', order: 'newest first' },
  CONFLICT_RATE: { kinds: ['CONFLICT'], orderBy: 'OCCURRED_AT_DESC', order: 'newest first' },
};
const EVERY_EVENT = { kinds: null, orderBy: 'OCCURRED_AT_DESC' as EventOrder, order: 'newest first' };

export interface DrillRequest {
  /** What was clicked, for the heading: "Average resolution time", "Office: North". */
  title: string;
  /** A KPI key (its events, in its order), or null for every event of the scope. */
  kpi: string | null;
  /** The page's scope; null programId: all programs (events are listed one program at a time). */
  scope: { programId: string | null; from: Date; to: Date; filter: readonly { key: string; values: string[] }[] };
}

export interface DrillDown {
  open(request: DrillRequest): void;
  close(): void;
}

export function createDrillDown(
  section: HTMLElement,
  options: { client: MonitoringClient; apiKey: () => string; onError: (error: Error) => void },
): DrillDown {
  const heading = section.querySelector<HTMLElement>('#drilldown-title')!;
  const status = section.querySelector<HTMLElement>('#drilldown-status')!;
  const table = section.querySelector<HTMLTableElement>('#drilldown-events')!;
  const more = section.querySelector<HTMLButtonElement>('#drilldown-more')!;
  const download = section.querySelector<HTMLButtonElement>('#drilldown-download')!;
  const closeButton = section.querySelector<HTMLButtonElement>('#drilldown-close')!;
  let current: { request: DrillRequest; after: string | null; shown: number; total: number; order: string } | null =
    null;
  /** Bumped on every open: an answer for an earlier request is dropped. */
  let generation = 0;

  closeButton.addEventListener('click', () => close());
  more.addEventListener('click', () => void load());
  download.addEventListener('click', () => {
    if (!current?.request.scope.programId) return;
    const { scope, kpi } = current.request;
    const behind = (kpi && BEHIND[kpi]) || EVERY_EVENT;
    const exportScope: ExportScope = {
      programId: scope.programId,
      from: scope.from,
      to: scope.to,
      filter: scope.filter,
      kinds: behind.kinds,
    };
    downloadExport('/export/events.csv', exportScope, options.apiKey(), `events-${scope.programId}.csv`).catch(
      options.onError,
    );
  });

  function close() {
    generation++;
    current = null;
    section.hidden = true;
  }

  function variables(request: DrillRequest, after: string | null) {
    const behind = (request.kpi && BEHIND[request.kpi]) || EVERY_EVENT;
    return {
      programId: request.scope.programId!,
      from: request.scope.from,
      to: request.scope.to,
      filter: request.scope.filter.length ? (request.scope.filter as Filter) : null,
      kinds: behind.kinds,
      orderBy: behind.orderBy,
      first: PAGE,
      after,
    };
  }

  async function load() {
    if (!current) return;
    const mine = generation;
    more.disabled = true;
    try {
      const page = await options.client.events(variables(current.request, current.after));
      if (mine !== generation || !current) return;
      const tbody = table.tBodies[0] ?? table.createTBody();
      for (const { node } of page.edges) tbody.append(row(node));
      current.after = page.pageInfo.endCursor;
      current.shown += page.edges.length;
      current.total = page.totalCount;
      more.hidden = !page.pageInfo.hasNextPage;
      download.hidden = current.total === 0;
      status.textContent =
        current.total === 0
          ? 'No events in this scope.'
          : `${current.shown.toLocaleString(LOCALE)} of ${current.total.toLocaleString(LOCALE)} events, ${current.order}.`;
    } catch (error) {
      if (mine === generation) options.onError(error as Error);
    } finally {
      more.disabled = false;
    }
  }

  return {
    open(request) {
      generation++;
      section.hidden = false;
      heading.textContent = `Events behind: ${request.title}`;
      table.replaceChildren(headerRow());
      more.hidden = true;
      download.hidden = true;
      const behind = (request.kpi && BEHIND[request.kpi]) || EVERY_EVENT;
      if (request.scope.programId === null) {
        current = null;
        status.textContent = 'Choose a program to see its events: they are listed one program at a time.';
        section.scrollIntoView({ block: 'nearest' });
        return;
      }
      current = { request, after: null, shown: 0, total: 0, order: behind.order };
      status.textContent = 'Loading…';
      section.scrollIntoView({ block: 'nearest' });
      void load();
    },
    close,
  };
}

function headerRow(): HTMLTableSectionElement {
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const name of ['Occurred', 'Case', 'Kind', 'Value', 'Attributes']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    tr.append(th);
  }
  thead.append(tr);
  return thead;
}

const KIND_LABEL: Record<string, string> = {
  RESOLUTION_TIME: 'Resolution',
  SATISFACTION: 'Satisfaction',
  CONFLICT: 'Conflict',
};

function row(event: EventNode): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.id = event.id;
  const value =
    event.value === null
      ? (event.reason ?? '')
      : event.kind === 'RESOLUTION_TIME'
        ? `${event.value} days`
        : `${event.value} / 5`;
  const cells = [
    new Date(event.occurredAt).toLocaleString(LOCALE),
    event.caseId,
    KIND_LABEL[event.kind] ?? event.kind,
    value,
    event.attributes.map((a) => `${a.key}: ${a.value}`).join(', '),
  ];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (i === 1) td.className = 'case';
    tr.append(td);
  });
  return tr;
}
