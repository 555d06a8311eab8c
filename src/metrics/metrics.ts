/**
 * The service in Prometheus' text format: its own health (requests, errors, latency, sockets,
 * subscriptions, ingestion, delivery queue) and each program's KPIs as gauges, so a Grafana user
 * can chart them without glue. Values that live elsewhere are read at scrape time (collect), so
 * nothing here can drift from the source.
 */
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Services } from '../context.js';
import { aggregateSpans } from '../kpis/kpi.service.js';
import { KPIS } from '../kpis/registry.js';
import { DAY } from '../kpis/time.js';
import { listPrograms } from '../programs/programs.repository.js';
import { kpiValue } from '../targets/scorecard.js';

/** The window of the per-program KPI gauges: the last 30 days up to the scrape. */
export const KPI_GAUGE_WINDOW_DAYS = 30;

export interface MetricsSources {
  services: Services;
  /** Open, authorized WebSocket connections. */
  openSockets: () => number;
  /** Alert notifications waiting for delivery; absent while the alerts outbox does not exist. */
  deliveryQueue?: () => Promise<number>;
  /** Refusals so far, by reason: requests past the in-flight bound, records past the queue bound. */
  refusals?: () => { requests: number; records: number };
  /** WebSocket subscribers closed so far for reading too slowly. */
  slowReadersClosed?: () => number;
  /** Rate-limit checks answered by this instance alone although REDIS_URL is set. */
  rateLimitLocalDecisions?: () => number;
}

/** A counter that mirrors a running total kept elsewhere, read at scrape time. */
function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: () => Record<string, number>,
) {
  const seen: Record<string, number> = {};
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const [label, total] of Object.entries(read())) {
        this.inc(labelNames.length ? { [labelNames[0]]: label } : {}, total - (seen[label] ?? 0));
        seen[label] = total;
      }
    },
  });
}

const NOT_COUNTERS_NAMED_TOTAL = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface Metrics {
  /** The service's own metrics; program data (kpi_value) is rendered apart, per reader, by `render`. */
  registry: Registry;
  /**
   * The whole scrape in Prometheus' text format, with kpi_value only for `programIds` (null: every
   * program): a reader limited to some programs never sees another's KPIs.
   */
  render(programIds: readonly string[] | null): Promise<string>;
  /** Counts GraphQL errors by code and active subscriptions, over HTTP and WebSocket alike. */
  yogaPlugin: Plugin;
  /** One finished HTTP request. `route` is a small fixed set, so labels stay few. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges *_total, which promtool refuses (only counters end in _total);
  // nodejs_active_handles, _requests and _resources, by type, carry the same counts.
  for (const name of NOT_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(name);
  const http = httpMetrics(registry);
  serviceMetrics(registry, sources);
  const render = async (programIds: readonly string[] | null) =>
    `${await registry.metrics()}\n${await kpiGauges(sources.services, programIds)}`;
  return { registry, render, yogaPlugin: graphqlMetrics(registry), observeRequest: http.observeRequest };
}

/** Requests and their latency, by route. */
function httpMetrics(registry: Registry): Pick<Metrics, 'observeRequest'> {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
  };
}

/** GraphQL errors by code and active subscriptions, counted by a yoga plugin (HTTP and WebSocket alike). */
function graphqlMetrics(registry: Registry): Plugin {
  const graphqlErrors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors in GraphQL answers (HTTP and WebSocket), by extensions.code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'graphql_subscriptions_active',
    help: 'GraphQL subscriptions currently streaming.',
    registers: [registry],
  });
  function countErrors(errors: readonly { extensions?: { code?: unknown } }[] | undefined) {
    for (const error of errors ?? [])
      graphqlErrors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
  }
  return {
    onExecute: () => ({
      onExecuteDone: ({ result }) => {
        if (!isAsyncIterable(result)) countErrors(result.errors);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult: ({ result }) => {
        if (!isAsyncIterable(result)) {
          countErrors(result.errors);
          return;
        }
        subscriptions.inc();
        return { onEnd: () => subscriptions.dec() };
      },
    }),
  };
}

/** Sockets, ingestion, refusals and the delivery queue, read from their sources at scrape time. */
function serviceMetrics(registry: Registry, sources: MetricsSources): void {
  new Gauge({
    name: 'websocket_connections_open',
    help: 'Open, authorized WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(sources.openSockets());
    },
  });
  mirroredCounter(
    registry,
    'kpi_events_recorded_total',
    'Events stored since the process started, duplicates excluded (rate() gives the ingestion rate).',
    [],
    () => ({ all: sources.services.recorder.eventsStored }),
  );
  if (sources.refusals) {
    mirroredCounter(
      registry,
      'overload_refusals_total',
      'Work refused with OVERLOADED, by what was full.',
      ['bound'],
      () => {
        const { requests, records } = sources.refusals!();
        return { in_flight_requests: requests, record_queue: records };
      },
    );
  }
  if (sources.slowReadersClosed) {
    mirroredCounter(
      registry,
      'websocket_slow_readers_closed_total',
      'WebSocket subscribers closed for reading too slowly.',
      [],
      () => ({
        all: sources.slowReadersClosed!(),
      }),
    );
  }
  if (sources.rateLimitLocalDecisions && sources.services.config.redisUrl) {
    mirroredCounter(
      registry,
      'rate_limit_local_decisions_total',
      "Rate-limit checks this instance answered from its own count, Redis not being ready or not answering within REDIS_LIMIT_TIMEOUT_MS: each allows a key's rate apart from the other instances.",
      [],
      () => ({ all: sources.rateLimitLocalDecisions!() }),
    );
  }
  new Gauge({
    name: 'alert_delivery_queue',
    help: 'Alert notifications waiting for delivery (absent until the alerts outbox exists).',
    registers: [registry],
    async collect() {
      if (sources.deliveryQueue) this.set(await sources.deliveryQueue());
    },
  });
}

/**
 * Each program's KPIs over the last KPI_GAUGE_WINDOW_DAYS days, computed at scrape time for the
 * programs one reader may see (null: every program), in a registry of its own made per scrape.
 */
async function kpiGauges(services: Services, programIds: readonly string[] | null): Promise<string> {
  const own = new Registry();
  const gauge = new Gauge({
    name: 'kpi_value',
    help: `Each program's KPIs over the last ${KPI_GAUGE_WINDOW_DAYS} days (labels: program, kpi as in the Kpi enum); absent without data.`,
    labelNames: ['program', 'kpi'] as const,
    registers: [own],
  });
  const programs = (await listPrograms(services.db)).filter((p) => programIds === null || programIds.includes(p.id));
  const now = services.now();
  const window = { start: now - KPI_GAUGE_WINDOW_DAYS * DAY, end: now };
  const blocks = await aggregateSpans(services.db, programs, [window], now);
  for (const program of programs) {
    const aggregate = blocks.get(program.id)![0];
    for (const k of KPIS) {
      // A program that reported nothing has no sample at all, not TOTAL_CONFLICTS 0.
      const value = kpiValue(k, aggregate);
      if (value !== null) gauge.set({ program: program.id, kpi: k.key }, value);
    }
  }
  return own.metrics();
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
