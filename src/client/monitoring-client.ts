/**
 * The typed client for integrations and front ends: one line per call, as the module's original
 * usage was (`mon.record_resolution_time(case_id="HA-001", days=5)`, `mon.get_dashboard()`).
 *
 * Every record call carries an idempotency key (a random UUID unless the caller gives one), and the
 * same key is sent again on each retry of that call, so a retry after a lost answer is stored once:
 * the server recognises the key and answers with the first event (`duplicate: true`).
 *
 * Runs in Node 20+ and in browsers. Queries and mutations go over HTTP (fetch); subscriptions over
 * one lazily opened graphql-ws socket, which reconnects and resubscribes after a drop.
 */
import { createClient, type Client as WsClient } from 'graphql-ws/client';
import {
  ClientAcknowledgeAlertDocument,
  ClientAddDimensionDocument,
  ClientAlertChangedDocument,
  ClientBreakdownDocument,
  ClientBreakdownUpdatedDocument,
  ClientCreateAnnotationDocument,
  ClientCreateProgramDocument,
  ClientDeleteAnnotationDocument,
  ClientImpactDocument,
  ClientUpdateProgramDocument,
  ClientDashboardDocument,
  ClientDashboardUpdatedDocument,
  ClientEventsDocument,
  ClientKpisDocument,
  ClientMeDocument,
  ClientProgramsDocument,
  ClientRecordConflictDocument,
  ClientRecordEventsDocument,
  ClientRecordResolutionTimeDocument,
  ClientRecordSatisfactionDocument,
  ClientScorecardDocument,
  ClientSetTargetDocument,
  type AlertSummaryFragment,
  type AttributeFilterInput,
  type AttributeInput,
  type ClientBreakdownQueryVariables,
  type ClientDashboardQueryVariables,
  type ClientEventsQueryVariables,
  type CreateProgramInput,
  type DimensionInput,
  type EventInput,
  type Kpi,
  type RecordConflictInput,
  type RecordResolutionTimeInput,
  type RecordSatisfactionInput,
  type TypedDocumentString,
} from './generated.js';
import { backoffDelay, DEFAULT_RETRY, isTransientStatus, reconnectDelay, sleep, type RetryPolicy } from './retry.js';

export * from './generated.js';

/** An instant: a Date, or an ISO-8601 string with an offset. */
export type When = Date | string;
type WithWhen<T, K extends keyof T> = Omit<T, K> & { [P in K]?: When | null };

/**
 * An event's attributes: the API's list (`[{ key: 'office', value: 'Springfield' }]`) or, shorter,
 * an object (`{ office: 'Springfield', channel: 'web' }`).
 */
export type Attributes = readonly AttributeInput[] | Readonly<Record<string, string>>;
/**
 * Filters, all of which must hold: the API's list (`[{ key: 'office', values: ['A', 'B'] }]`) or an
 * object (`{ office: ['A', 'B'], channel: 'web' }`).
 */
export type Filter = readonly AttributeFilterInput[] | Readonly<Record<string, string | readonly string[]>>;
type WithAttributes<T> = Omit<T, 'attributes'> & { attributes?: Attributes | null };
type WithFilter<T> = Omit<T, 'filter'> & { filter?: Filter | null };

export type ResolutionTimeInput = WithAttributes<WithWhen<RecordResolutionTimeInput, 'occurredAt'>>;
export type SatisfactionInput = WithAttributes<WithWhen<RecordSatisfactionInput, 'occurredAt'>>;
export type ConflictInput = WithAttributes<WithWhen<RecordConflictInput, 'occurredAt'>>;
export type AnyEventInput = WithAttributes<WithWhen<EventInput, 'occurredAt'>>;
export type DashboardArgs = WithFilter<WithWhen<ClientDashboardQueryVariables, 'from' | 'to'>>;
/** A dashboard's scope plus the breakdown's own arguments; `series: false` leaves each row's points out. */
/** The arguments of `events`: one program, the dashboard's range and filter, a kind, a case, an order, a page. */
export type EventsArgs = WithFilter<WithWhen<ClientEventsQueryVariables, 'from' | 'to'>>;
export type BreakdownArgs = DashboardArgs &
  Pick<ClientBreakdownQueryVariables, 'by' | 'orderBy' | 'descending' | 'limit'> & { series?: boolean };

export interface MonitoringClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql (a bare origin gets /graphql). */
  url: string;
  apiKey: string;
  /** Retries of transient failures; defaults to 4 retries, 200 ms doubling up to 5 s, with jitter. */
  retry?: Partial<RetryPolicy>;
  /** Per try (ms); a try that takes longer is abandoned and counts as a network failure. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** A WebSocket class; by default the global one, or the `ws` package in Node versions without one. */
  webSocketImpl?: unknown;
  /** Reports the subscription socket's state, e.g. for a "live" badge. */
  onConnectionChange?: (state: 'connecting' | 'connected' | 'closed') => void;
}

export interface GraphQLErrorJson {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A failed call: `code` is the GraphQL error's extensions.code, or NETWORK / HTTP_<status>. */
export class MonitoringError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly errors: readonly GraphQLErrorJson[] = [],
    readonly status?: number,
  ) {
    super(message);
    this.name = 'MonitoringError';
  }
}

export interface Handlers<T> {
  next(value: T): void;
  error?(error: MonitoringError): void;
  complete?(): void;
}

export type Unsubscribe = () => void;

/** Closes a socket whose key is refused: retrying cannot help. */
const FORBIDDEN_CLOSE = 4403;

export class MonitoringClient {
  readonly url: string;
  private readonly apiKey: string;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private ws: Promise<WsClient> | null = null;

  constructor(private readonly options: MonitoringClientOptions) {
    const url = new URL(options.url);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/graphql';
    this.url = url.toString();
    if (!options.apiKey) throw new TypeError('MonitoringClient needs an apiKey');
    this.apiKey = options.apiKey;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  // ---- recording: each call is idempotent, so each is retried ----

  recordResolutionTime(input: ResolutionTimeInput) {
    return this.request(ClientRecordResolutionTimeDocument, { input: withKey(input) }).then(
      (d) => d.recordResolutionTime,
    );
  }

  recordSatisfaction(input: SatisfactionInput) {
    return this.request(ClientRecordSatisfactionDocument, { input: withKey(input) }).then((d) => d.recordSatisfaction);
  }

  recordConflict(input: ConflictInput) {
    return this.request(ClientRecordConflictDocument, { input: withKey(input) }).then((d) => d.recordConflict);
  }

  /** Up to 10,000 events, all or nothing; each event without an idempotency key gets one. */
  recordEvents(events: readonly AnyEventInput[]) {
    return this.request(ClientRecordEventsDocument, { events: events.map(withKey) }).then((d) => d.recordEvents);
  }

  // ---- reading ----

  getDashboard(args: DashboardArgs = {}) {
    return this.request(ClientDashboardDocument, dashboardVariables(args)).then((d) => d.dashboard);
  }

  /**
   * One row per value of `by` among the scope's events (plus a `value: null` row for events without
   * the attribute), or per program with `by: "program"`; sorted by `orderBy`, descending by default.
   */
  getBreakdown(args: BreakdownArgs) {
    return this.request(ClientBreakdownDocument, breakdownVariables(args)).then((d) => d.dashboard);
  }

  /**
   * One page of the raw events behind a number (newest first by default; `orderBy: 'VALUE_DESC'`
   * with `kinds: ['RESOLUTION_TIME']` for the slowest cases). The next page: `after: pageInfo.endCursor`.
   */
  events(args: EventsArgs) {
    return this.request(ClientEventsDocument, {
      ...args,
      from: iso(args.from),
      to: iso(args.to),
      filter: filterList(args.filter),
    }).then((d) => d.events);
  }

  /** The scorecard of [from, to), of the part of the program that `filter` selects when one is given. */
  getScorecard(programId: string, from: When, to: When, filter?: Filter | null) {
    return this.request(ClientScorecardDocument, {
      programId,
      from: iso(from)!,
      to: iso(to)!,
      filter: filterList(filter),
    }).then((d) => d.scorecard);
  }

  /**
   * How every KPI moved across an annotation: the `days` before it against the `days` after it
   * (30 by default), with the 95% interval of each change where the KPI has one.
   */
  impact(annotationId: string, days?: number | null, filter?: Filter | null) {
    return this.request(ClientImpactDocument, { annotationId, days: days ?? null, filter: filterList(filter) }).then(
      (d) => d.impact,
    );
  }

  programs() {
    return this.request(ClientProgramsDocument, {}).then((d) => d.programs);
  }

  /** The KPI registry: key, label, unit and direction of every KPI. */
  kpis() {
    return this.request(ClientKpisDocument, {}).then((d) => d.kpis);
  }

  /** The role and programs of this client's key. */
  me() {
    return this.request(ClientMeDocument, {}).then((d) => d.me);
  }

  // ---- administration (ADMIN keys) ----

  createProgram(input: CreateProgramInput) {
    return this.request(ClientCreateProgramDocument, { input }).then((d) => d.createProgram);
  }

  /** Declares a new dimension; dimensions are never removed or renamed. */
  addDimension(programId: string, input: DimensionInput) {
    return this.request(ClientAddDimensionDocument, { programId, input }).then((d) => d.addDimension);
  }

  /** Renames a program or sets its service standard in days (null removes it); past answers follow the new standard. */
  updateProgram(id: string, input: { name?: string; resolutionStandardDays?: number | null }) {
    return this.request(ClientUpdateProgramDocument, { id, input }).then((d) => d.updateProgram);
  }

  /** A target for the program, or for the part of it that `filter` selects. */
  setTarget(input: { programId: string; kpi: Kpi; from: When; to: When; value: number; filter?: Filter | null }) {
    return this.request(ClientSetTargetDocument, {
      input: { ...input, from: iso(input.from)!, to: iso(input.to)!, filter: filterList(input.filter) },
    }).then((d) => d.setTarget);
  }

  /** Marks a change in a program at `at` (up to 5 minutes ahead); dashboards show it, `impact` measures it. */
  createAnnotation(input: { programId: string; at: When; title: string; description?: string | null }) {
    return this.request(ClientCreateAnnotationDocument, { input: { ...input, at: iso(input.at)! } }).then(
      (d) => d.createAnnotation,
    );
  }

  deleteAnnotation(id: string) {
    return this.request(ClientDeleteAnnotationDocument, { id }).then((d) => d.deleteAnnotation);
  }

  /** Marks an alert as seen; it stays open until its KPI recovers. */
  acknowledgeAlert(id: string) {
    return this.request(ClientAcknowledgeAlertDocument, { id }).then((d) => d.acknowledgeAlert);
  }

  // ---- live ----

  /** The dashboard at once, then after every change in its scope. */
  subscribeDashboard(
    args: DashboardArgs,
    handlers: Handlers<DashboardOf<typeof ClientDashboardUpdatedDocument>>,
  ): Unsubscribe {
    return this.subscribe(ClientDashboardUpdatedDocument, dashboardVariables(args), {
      ...handlers,
      next: (data) => handlers.next(data.dashboardUpdated),
    });
  }

  /** The breakdown at once, then after every change in its scope. */
  subscribeBreakdown(
    args: BreakdownArgs,
    handlers: Handlers<DashboardOf<typeof ClientBreakdownUpdatedDocument>>,
  ): Unsubscribe {
    return this.subscribe(ClientBreakdownUpdatedDocument, breakdownVariables(args), {
      ...handlers,
      next: (data) => handlers.next(data.dashboardUpdated),
    });
  }

  /** Every alert transition (PENDING, FIRING, RESOLVED) and acknowledgement, for one program or all the key may see. */
  subscribeAlerts(args: { programId?: string | null }, handlers: Handlers<AlertSummaryFragment>): Unsubscribe {
    return this.subscribe(
      ClientAlertChangedDocument,
      { programId: args.programId ?? null },
      {
        ...handlers,
        next: (data) => handlers.next(data.alertChanged),
      },
    );
  }

  /**
   * Any operation the schema offers, typed by its document. Reads are always safe to retry;
   * mutations only when they carry an idempotency key, which the record methods above ensure.
   */
  async request<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    const body = JSON.stringify({ query: document.toString(), variables });
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${this.apiKey}`,
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (cause) {
        if (attempt < this.retry.retries) {
          await sleep(backoffDelay(this.retry, attempt));
          continue;
        }
        throw new MonitoringError(`cannot reach ${this.url}: ${(cause as Error).message}`, 'NETWORK');
      }
      if (isTransientStatus(response.status)) {
        await response.body?.cancel();
        if (attempt < this.retry.retries) {
          await sleep(backoffDelay(this.retry, attempt, response.headers.get('retry-after')));
          continue;
        }
        throw new MonitoringError(
          `${this.url} answered ${response.status}`,
          `HTTP_${response.status}`,
          [],
          response.status,
        );
      }
      let json: { data?: R | null; errors?: GraphQLErrorJson[] };
      try {
        json = await response.json();
      } catch {
        throw new MonitoringError(
          `${this.url} answered ${response.status} without a GraphQL body`,
          `HTTP_${response.status}`,
          [],
          response.status,
        );
      }
      if (json.errors?.length) throw fromErrors(json.errors, response.status);
      if (!json.data)
        throw new MonitoringError('the answer holds no data', `HTTP_${response.status}`, [], response.status);
      return json.data;
    }
  }

  /** Any subscription the schema offers, typed by its document. */
  subscribe<R, V>(document: TypedDocumentString<R, V>, variables: V, handlers: Handlers<R>): Unsubscribe {
    let stop: (() => void) | null = null;
    let stopped = false;
    this.socket().then(
      (ws) => {
        if (stopped) return;
        stop = ws.subscribe<R>(
          { query: document.toString(), variables: variables as Record<string, unknown> },
          {
            next: (result) => {
              if (result.errors?.length) handlers.error?.(fromErrors(result.errors as GraphQLErrorJson[]));
              else if (result.data) handlers.next(result.data);
            },
            error: (error) => handlers.error?.(fromSocketError(error)),
            complete: () => handlers.complete?.(),
          },
        );
      },
      (error) => handlers.error?.(fromSocketError(error)),
    );
    return () => {
      stopped = true;
      stop?.();
    };
  }

  /** Closes the subscription socket, if one is open. */
  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = null;
    if (ws) await (await ws).dispose();
  }

  private socket(): Promise<WsClient> {
    return (this.ws ??= (async () => {
      const webSocketImpl = this.options.webSocketImpl ?? globalThis.WebSocket ?? (await loadNodeWebSocket());
      const notify = this.options.onConnectionChange;
      return createClient({
        url: this.url.replace(/^http/, 'ws'),
        webSocketImpl,
        connectionParams: { authorization: `Bearer ${this.apiKey}` },
        lazy: true,
        retryAttempts: Infinity,
        // A refused key stays refused; anything else (a restart, a dropped network) is worth a retry.
        shouldRetry: (event) => !(isCloseEvent(event) && (event.code === FORBIDDEN_CLOSE || event.code === 4401)),
        retryWait: (retries) => sleep(reconnectDelay(retries)),
        on: notify && {
          connecting: () => notify('connecting'),
          connected: () => notify('connected'),
          closed: () => notify('closed'),
        },
      });
    })());
  }
}

type DashboardOf<D> = D extends TypedDocumentString<{ dashboardUpdated: infer T }, any> ? T : never;

/** A record input with its idempotency key: the caller's, or a fresh UUID reused by every retry. */
function withKey<
  T extends { occurredAt?: When | null; idempotencyKey?: string | null; attributes?: Attributes | null },
>(input: T) {
  return {
    ...input,
    occurredAt: iso(input.occurredAt),
    idempotencyKey: input.idempotencyKey ?? globalThis.crypto.randomUUID(),
    attributes: attributeList(input.attributes),
  };
}

/** Attributes in the API's form; an object's keys in their own order. Absent stays absent. */
export function attributeList(attributes: Attributes | null | undefined): AttributeInput[] | undefined {
  if (attributes == null) return undefined;
  if (isList(attributes)) return [...attributes];
  return Object.entries(attributes).map(([key, value]) => ({ key, value }));
}

/** Filters in the API's form: `{ office: 'A' }` is `[{ key: 'office', values: ['A'] }]`. */
export function filterList(filter: Filter | null | undefined): AttributeFilterInput[] | undefined {
  if (filter == null) return undefined;
  if (isList(filter)) return [...filter];
  return Object.entries(filter).map(([key, values]) => ({
    key,
    values: typeof values === 'string' ? [values] : [...values],
  }));
}

const isList = <T>(value: readonly T[] | object): value is readonly T[] => Array.isArray(value);

function dashboardVariables(args: DashboardArgs): ClientDashboardQueryVariables {
  return { ...args, from: iso(args.from), to: iso(args.to), filter: filterList(args.filter) };
}

function breakdownVariables({ series, ...args }: BreakdownArgs): ClientBreakdownQueryVariables {
  return {
    ...args,
    from: iso(args.from),
    to: iso(args.to),
    filter: filterList(args.filter),
    withSeries: series ?? true,
  };
}

function iso(when: When | null | undefined): string | null | undefined {
  return when instanceof Date ? when.toISOString() : when;
}

function fromErrors(errors: readonly GraphQLErrorJson[], status?: number): MonitoringError {
  const first = errors[0];
  return new MonitoringError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR', errors, status);
}

function isCloseEvent(value: unknown): value is { code: number; reason: string } {
  return typeof value === 'object' && value !== null && 'code' in value && 'reason' in value;
}

function fromSocketError(error: unknown): MonitoringError {
  if (Array.isArray(error)) return fromErrors(error as GraphQLErrorJson[]);
  if (isCloseEvent(error)) {
    const code = error.code === FORBIDDEN_CLOSE || error.code === 4401 ? 'UNAUTHENTICATED' : 'NETWORK';
    return new MonitoringError(
      `the live connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`,
      code,
    );
  }
  return new MonitoringError(error instanceof Error ? error.message : String(error), 'NETWORK');
}

/** Node before 22 has no global WebSocket; the server's own `ws` package serves. Hidden from bundlers. */
async function loadNodeWebSocket(): Promise<unknown> {
  const name = 'ws';
  const mod = await import(/* @vite-ignore */ name);
  return mod.WebSocket ?? mod.default;
}
