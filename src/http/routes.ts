/**
 * Every HTTP route the server answers, in one list: the request handler dispatches from it, the
 * request metrics label by it, and the isolation matrix (test/isolation.test.ts) reads it, so a
 * route without a matrix row fails that test.
 *
 * Adding a route: write its handler in its own module under src/http/ (or beside the feature it
 * serves), add an entry below, and add a row for its path to HTTP_MATRIX in test/isolation.test.ts
 * (probes with a key limited to alpha reaching for bravo, or `none` saying why it holds no program
 * data). A handler authenticates for itself (`parts.services.authenticator.authenticate`) and
 * reads a body with `requestBody(req)`: admission has already read it, within LIMIT_BODY_BYTES
 * (unless the route `streamsBody`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Services } from '../context.js';
import type { Logger } from '../metrics/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { IMPORT_PATH, serveImport } from '../exports/import-events.js';
import { DASHBOARD_CSV_PATH, serveDashboardCsv } from '../exports/dashboard-export.js';
import { EVENTS_CSV_PATH, EVENTS_NDJSON_PATH, serveEventsCsv, serveEventsNdjson } from '../exports/events-export.js';
import { serveMetrics } from './metrics-route.js';
import { serveStatic } from './static-files.js';

/** What every route handler may reach. */
export interface RouteParts {
  yoga: (req: IncomingMessage, res: ServerResponse) => unknown;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  services: Services;
  /** The built page (web/dist); null serves no page. */
  webRoot: string | null;
}

export interface HttpRoute {
  /** The exact pathname (no query string); also the route's label in the request metrics. */
  path: string;
  /** Methods it answers; any other gets 405 with `Allow`. */
  methods: readonly string[];
  /** Compressed when the client accepts it (not for a few bytes, such as the probes). */
  compress: boolean;
  /** Logged at debug level rather than info: probes and scrapes arrive every few seconds. */
  quiet?: boolean;
  /**
   * The handler reads the body as it streams in, of any length (an import): admission neither reads
   * it first nor bounds it by LIMIT_BODY_BYTES and HTTP_REQUEST_TIMEOUT_MS (src/health/admission.ts).
   * To a request with `Expect: 100-continue` the handler answers 100 Continue itself,
   * once it means to read the body.
   */
  streamsBody?: boolean;
  handle(req: IncomingMessage, res: ServerResponse, parts: RouteParts): unknown;
}

export const GRAPHQL_ENDPOINT = '/graphql';

const viaYoga: HttpRoute['handle'] = (req, res, { yoga }) => yoga(req, res);

export const HTTP_ROUTES: readonly HttpRoute[] = [
  // GraphQL over POST and GET, subscriptions over SSE; OPTIONS for CORS preflights (yoga answers them).
  { path: GRAPHQL_ENDPOINT, methods: ['GET', 'POST', 'OPTIONS'], compress: true, handle: viaYoga },
  // Liveness (yoga's health check) and readiness (useReadiness): always answered, even under overload.
  { path: '/health', methods: ['GET', 'HEAD'], compress: false, quiet: true, handle: viaYoga },
  { path: '/ready', methods: ['GET', 'HEAD'], compress: false, quiet: true, handle: viaYoga },
  { path: '/metrics', methods: ['GET', 'HEAD'], compress: true, quiet: true, handle: serveMetrics },
  // CSV or NDJSON files of events, streamed (src/exports/import-events.ts).
  { path: IMPORT_PATH, methods: ['POST'], compress: false, streamsBody: true, handle: serveImport },
  // Exports (issue 19): VIEWER and ADMIN keys within their programs, streamed with backpressure.
  // Not compressed: the compression library forwards 'drain' listeners to its gzip stream and never
  // removes them, so every wait for the socket would leak one (and gzip cost ~6x the export's rate).
  { path: EVENTS_CSV_PATH, methods: ['GET', 'HEAD'], compress: false, handle: serveEventsCsv },
  { path: EVENTS_NDJSON_PATH, methods: ['GET', 'HEAD'], compress: false, handle: serveEventsNdjson },
  { path: DASHBOARD_CSV_PATH, methods: ['GET', 'HEAD'], compress: false, handle: serveDashboardCsv },
];

/** The paths whose body their handler streams (admission, and 100 Continue, are left to them). */
export const STREAMED_PATHS: ReadonlySet<string> = new Set(HTTP_ROUTES.filter((r) => r.streamsBody).map((r) => r.path));

/**
 * Any other path: the dashboard page's files, or yoga's 404. Its label in the request metrics is
 * `page`, and its matrix row is `*`.
 */
export const PAGE_ROUTE: HttpRoute = {
  path: '*',
  methods: ['GET', 'HEAD'],
  compress: true,
  async handle(req, res, parts) {
    const { webRoot, config, yoga } = parts;
    const served =
      webRoot &&
      (req.method === 'GET' || req.method === 'HEAD') &&
      (await serveStatic(webRoot, req, res, { production: config.production }));
    if (!served) await yoga(req, res);
  },
};

const byPath = new Map(HTTP_ROUTES.map((route) => [route.path, route]));

export function routeFor(pathname: string): HttpRoute {
  return byPath.get(pathname) ?? PAGE_ROUTE;
}

/** The request's body: admission read it already (src/health/admission.ts); empty when there was none. */
export async function requestBody(req: IncomingMessage): Promise<Buffer> {
  const source = (req as { body?: AsyncIterable<Buffer> }).body ?? req;
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
