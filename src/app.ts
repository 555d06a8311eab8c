/**
 * buildApp(config): the database, the services, yoga over HTTP and graphql-ws over WebSocket on
 * one port. WebSocket operations go through yoga.getEnveloped, so both share one context factory,
 * one plugin stack and one authorization.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type Plugin } from 'graphql-yoga';
import { createAlerting } from './alerts/alerting.js';
import { countPendingNotifications } from './alerts/webhooks.repository.js';
import { Authenticator } from './auth/authenticate.js';
import type { Config } from './config.js';
import { createLoaders, type Context, type Services } from './context.js';
import { LiveFeed } from './dashboards/feed.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ensureRollups } from './kpis/rollups-rebuild.js';
import { compiledExecution } from './schema/compiled-execution.js';
import { openEventWriter, Recorder } from './write/index.js';
import { admission } from './health/admission.js';
import { databaseCheck, NotReady, Readiness, useReadiness } from './health/readiness.js';
import { createRequestHandler } from './http/request-handler.js';
import { GRAPHQL_ENDPOINT, STREAMED_PATHS } from './http/routes.js';
import { WEB_ROOT } from './http/static-files.js';
import { createLogger, yogaLogger, type Logger } from './metrics/logger.js';
import { createMetrics } from './metrics/metrics.js';
import { createEventBus } from './realtime/pubsub.js';
import { resyncOnReconnect } from './realtime/redis-resync.js';
import { endSubscriptionsOnRevocation } from './realtime/end-on-revocation.js';
import { useSharedLiveResults } from './realtime/shared-results.plugin.js';
import { subscriptionAdmission } from './realtime/subscription-admission.js';
import { serveWebSockets, type LiveSockets } from './realtime/ws.server.js';
import { corsFor, varyOnOrigin } from './security/cors.js';
import { PersistedOperations, readPersistedFile } from './security/persisted-operations.js';
import { securityPlugins } from './security/plugins.js';
import { RateLimits } from './security/rate-limit.js';
import { schema } from './schema/index.js';

export interface App {
  services: Services;
  server: Server;
  /** The WebSocket side: open sockets, slow readers closed. */
  sockets: LiveSockets;
  /** Subscriptions a key (by its id) holds open on this instance, as its cap counts them. */
  subscriptionsOpen(keyId: string): number;
  /** What /ready checks; a dependency (Redis, say) adds its own with `readiness.add(name, check)`. */
  readiness: Readiness;
  /** Fetch-style entry for tests: `app.fetch('http://x/graphql', init)`. */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

interface ServerContext {
  req?: IncomingMessage;
  /** Sent by graphql-ws clients in the connection_init message. */
  connectionParams?: Record<string, unknown>;
}

/** How long shutdown waits for requests in flight; main.ts gives the whole shutdown 10 s. */
const SHUTDOWN_DRAIN_MS = 5_000;

export interface AppOptions {
  /** The clock; tests pin it. */
  now?: () => number;
  /** The JSON log; by default pino on stdout at LOG_LEVEL (tests may pass one that writes to memory). */
  logger?: Logger;
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const services = await openServices(config, options.now ?? Date.now, logger);
  // After a Redis outage, live subscribers get a fresh snapshot instead of staying silently stale.
  const stopResync = resyncOnReconnect(services.db, services.pubsub, logger);
  const readiness = readinessOf(services);
  // Judging and delivery run from here on, whether or not the app listens (tests use fetch).
  services.alerts.start();

  // The metrics read the sockets and the admission bound, which are made below, at scrape time.
  const metrics = createMetrics({
    services,
    openSockets: () => sockets.count(),
    deliveryQueue: () => countPendingNotifications(services.db),
    refusals: () => ({ requests: requests.refused(), records: services.recorder.refused }),
    slowReadersClosed: () => sockets.slowReaders().closed,
    rateLimitLocalDecisions: () => services.rateLimits.localDecisions(),
  });
  const subscriptions = subscriptionAdmission(config.liveSubscriptions);
  const { mode, file } = config.persistedOperations;
  const persisted = new PersistedOperations(mode, file ? readPersistedFile(file) : {});
  const yoga = createGraphQL(config, services, logger, {
    persisted: persisted.plugin(),
    metrics: metrics.yogaPlugin,
    readiness: useReadiness(readiness),
    subscriptions: subscriptions.plugin,
  });

  // Request ids, JSON logs and metrics for every request; then /metrics, GraphQL, or the page's files.
  // Past MAX_IN_FLIGHT_REQUESTS a request is refused at once (OVERLOADED) rather than queued.
  const requests = admission(
    createRequestHandler({
      yoga,
      metrics,
      logger,
      config,
      services,
      webRoot: WEB_ROOT,
    }),
    {
      maxInFlight: config.maxInFlightRequests,
      maxBodyBytes: config.limits.bodyBytes,
      bodyTimeoutMs: config.httpRequestTimeoutMs,
      streamedPaths: STREAMED_PATHS,
    },
  );
  const server = createHttpServer(config, requests.handler);
  const sockets = serveWebSockets({ server, yoga, services, persisted, keepAliveMs: config.liveKeepAliveMs });
  let stopping: Promise<void> | null = null;

  return {
    services,
    server,
    sockets,
    subscriptionsOpen: (keyId) => subscriptions.open(keyId),
    readiness,
    fetch: (url, init) => Promise.resolve(yoga.fetch(new Request(url, init))),
    start: () => listen(server, config),
    stop: () => (stopping ??= shutdown({ services, server, sockets, readiness, requests, stopResync })),
  };
}

/** The database (migrated, rollups current) and every service the resolvers reach through the context. */
async function openServices(config: Config, now: () => number, logger: Logger): Promise<Services> {
  const database = await openDatabase(config.databaseUrl, { poolMax: config.databasePoolMax });
  await migrateToLatest(database);
  // Rollups are derived from raw events; a new rollup shape rebuilds them before any request.
  await ensureRollups(database);
  // In-process, or with REDIS_URL shared by every instance; pubsub.redisReady() tells which state it is in.
  const pubsub = createEventBus({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, log: logger });
  return {
    config,
    database,
    db: database.db,
    pubsub,
    recorder: new Recorder(
      database,
      pubsub,
      now,
      config.recordQueueMaxEvents,
      openEventWriter(config.databaseUrl, database, config.sqliteWriterThread),
    ),
    feed: new LiveFeed(pubsub, { throttleMs: config.liveThrottleMs }),
    alerts: createAlerting(database.db, pubsub, now, config, logger),
    authenticator: new Authenticator(database.db, config.adminApiKey, pubsub),
    rateLimits: RateLimits.open({
      perKey: config.rateLimit,
      unauthenticated: config.unauthenticatedRateLimit,
      trustedProxies: config.trustedProxies,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      redisTimeoutMs: config.redisLimitTimeoutMs,
      log: logger,
    }),
    now,
  };
}

/** What /ready checks: the database, and Redis when there is one. */
function readinessOf(services: Services): Readiness {
  const readiness = new Readiness();
  readiness.add('database', databaseCheck(services.database));
  if (services.config.redisUrl) {
    readiness.add('redis', async () => {
      // The rate limits' own connection too: until it is ready, this instance counts every key alone.
      if (!services.pubsub.redisReady() || !services.rateLimits.redisReady()) throw new NotReady('not connected');
    });
  }
  return readiness;
}

/** Yoga: the schema, its plugin stack and the one context factory HTTP and WebSocket share. */
function createGraphQL(
  config: Config,
  services: Services,
  logger: Logger,
  observers: { persisted: Plugin; metrics: Plugin; readiness: Plugin; subscriptions: Plugin },
) {
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    healthCheckEndpoint: '/health',
    landingPage: false,
    // GraphiQL from an installed package (no CDN: it works on a closed network). Subscriptions go
    // over SSE, which sends the key of GraphiQL's Headers tab like every other request.
    graphiql: config.production ? false : { subscriptionsProtocol: 'SSE', title: 'KPI monitoring service' },
    // Loaded on first use: the package is 9 MB of script that production never needs.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    // Unexpected errors reach the client as "Unexpected error." and the server log in full.
    maskedErrors: { isDev: false },
    logging: yogaLogger(logger),
    // Browsers from other origins only when CORS_ORIGINS lists them.
    cors: corsFor(config.corsOrigins),
    // The body limit is ours (LIMIT_BODY_BYTES, src/security/limits.ts): yoga's pipes every body,
    // even one admission has already counted, through a stream (1.2-1.5x a bare request's time).
    maxRequestBodySize: false,
    // Limits, rate limiting and production's refusals (src/security/plugins.ts) come first.
    plugins: [
      ...securityPlugins(config, services.rateLimits),
      varyOnOrigin(),
      // Before parsing: an untrusted document (PERSISTED_OPERATIONS=only) is refused unparsed.
      observers.persisted,
      observers.metrics,
      useSharedLiveResults(),
      // After useSharedLiveResults: it wraps the subscribe function that really runs.
      observers.subscriptions,
      // After them too: ends each subscriber's own stream when its key is revoked (SSE and WebSocket).
      endSubscriptionsOnRevocation(services.pubsub),
      observers.readiness,
      compiledExecution(),
    ],
    context: ({ request, connectionParams, req }) => contextFor(services, request, connectionParams, req),
  });
}

/**
 * The caller from the HTTP Authorization header, or from graphql-ws' connection_init. A request
 * without a valid key counts against its address's allowance (RATE_LIMITED once spent).
 */
async function contextFor(
  services: Services,
  request: Request | undefined,
  connectionParams: Record<string, unknown> | undefined,
  req: IncomingMessage | undefined,
): Promise<Context> {
  const authorization =
    typeof connectionParams?.authorization === 'string'
      ? connectionParams.authorization
      : (request?.headers.get('authorization') ?? null);
  let caller: Context['caller'];
  try {
    caller = await services.authenticator.authenticate(authorization);
  } catch (error) {
    throw await services.rateLimits.refuseUnauthenticated(req, error);
  }
  return { services, caller, loaders: createLoaders(services) };
}

function createHttpServer(config: Config, handler: RequestListener): Server {
  // Timeouts below are checked every second rather than Node's default 30 s.
  const server = createServer({ connectionsCheckingInterval: 1_000 }, handler);
  // Behind a load balancer the balancer should close idle connections first (see HTTP_KEEPALIVE_MS).
  server.keepAliveTimeout = config.httpKeepAliveMs;
  // Slowloris: headers and the whole body must arrive within these (Node answers 408 and closes); an
  // idle keep-alive connection is not a request in progress, so neither cuts it off.
  server.headersTimeout = config.httpHeadersTimeoutMs;
  // The time a body may take (HTTP_REQUEST_TIMEOUT_MS) is decided per route by admission: an import
  // streams for as long as its file lasts. Node's requestTimeout would cut every route alike.
  server.requestTimeout = 0;
  // `Expect: 100-continue` (npm run import sends it): a route that streams its body says 100 Continue
  // itself once the headers pass its checks, so a refused file is never sent (sent into a closed
  // socket, it failed the client with EPIPE before the refusal was read); any other, at once as Node does.
  server.on('checkContinue', (req: IncomingMessage, res) => {
    if (!STREAMED_PATHS.has((req.url ?? '/').split('?')[0])) res.writeContinue();
    server.emit('request', req, res);
  });
  return server;
}

function listen(server: Server, config: Config): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A restart's reconnect storm arrives at once: past the backlog, the kernel resets connections.
    server.listen({ port: config.port, host: config.host, backlog: config.listenBacklog }, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/graphql`,
      });
    });
  });
}

interface Running {
  services: Services;
  server: Server;
  sockets: LiveSockets;
  readiness: Readiness;
  requests: ReturnType<typeof admission>;
  stopResync: () => void;
}

/** Drains, in the order that loses nothing acknowledged, then closes every connection. */
async function shutdown({ services, server, sockets, readiness, requests, stopResync }: Running): Promise<void> {
  // No new work: /ready turns 503, new connections are refused, new requests answer SHUTTING_DOWN.
  readiness.drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Requests in flight are answered, and what they wrote committed.
  await requests.drain(SHUTDOWN_DRAIN_MS);
  await services.recorder.close();
  // Notices already heard are judged, so their alerts and notifications reach the outbox.
  await services.alerts.stop();
  // Every socket hears 1001 (going away); then live scopes and their timers are let go.
  await sockets.close();
  services.feed.close();
  server.closeAllConnections?.();
  await closed;
  stopResync();
  services.authenticator.close();
  await services.rateLimits.close();
  await services.pubsub.close();
  await services.database.close();
}
