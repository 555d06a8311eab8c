/**
 * Every HTTP request's one way in: a request id, a JSON log line and the request metrics, then
 * `/metrics`, the GraphQL endpoint (and /health, /ready), or the dashboard page's files.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameSecret } from '../auth/keys.repository.js';
import type { Config } from '../config.js';
import type { Services } from '../context.js';
import { requestIdOf, type Logger } from '../metrics/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { compressAnswers } from './compression.js';
import { serveStatic } from './static-files.js';

export interface RequestHandlerParts {
  yoga: (req: IncomingMessage, res: ServerResponse) => unknown;
  graphqlEndpoint: string;
  metrics: Metrics;
  logger: Logger;
  config: Config;
  services: Services;
  /** The built page (web/dist); null serves no page. */
  webRoot: string | null;
}

export function createRequestHandler(parts: RequestHandlerParts) {
  const { yoga, graphqlEndpoint, metrics, logger, webRoot, config } = parts;
  const compress = compressAnswers();

  /** Few, fixed route labels, so the metrics' label sets stay small whatever paths are asked for. */
  const routeOf = (pathname: string) =>
    pathname === graphqlEndpoint || pathname === '/health' || pathname === '/ready' || pathname === '/metrics'
      ? pathname
      : 'page';

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const reqId = requestIdOf(req.headers['x-request-id']);
    // Yoga and its plugins read the same id from the request.
    req.headers['x-request-id'] = reqId;
    res.setHeader('x-request-id', reqId);
    const pathname = (req.url ?? '/').split('?')[0];
    const route = routeOf(pathname);
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(req.method ?? 'GET', route, res.statusCode, seconds);
      const line = {
        reqId,
        method: req.method,
        path: pathname,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        aborted: !res.writableFinished,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else if (route === '/health' || route === '/ready' || route === '/metrics') logger.debug(line, 'request');
      else logger.info(line, 'request');
    });

    try {
      // /health and /ready answer a few bytes; everything else may be large enough to compress.
      if (route !== '/health' && route !== '/ready') await compress(req, res);
      if (route === '/metrics') return await serveMetrics(parts, req, res);
      if (
        route === 'page' &&
        webRoot &&
        (req.method === 'GET' || req.method === 'HEAD') &&
        (await serveStatic(webRoot, req, res, { production: config.production }))
      )
        return;
      await yoga(req, res);
    } catch (error) {
      logger.error({ reqId, err: error }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  };
}

/**
 * `/metrics` holds every program's KPIs, so it is never open: Prometheus sends
 * `Authorization: Bearer <METRICS_TOKEN>` (or an ADMIN key, e.g. in development).
 */
async function serveMetrics(
  { metrics, config, services }: RequestHandlerParts,
  req: IncomingMessage,
  res: ServerResponse,
) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const authorization = req.headers.authorization ?? null;
  const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  let allowed = Boolean(token && config.metricsToken && sameSecret(token, config.metricsToken));
  // METRICS_TOKEN reads every program; an ADMIN key only the programs it is limited to.
  let programIds: readonly string[] | null = null;
  if (!allowed && token) {
    const caller = await services.authenticator.authenticate(authorization).catch(() => null);
    allowed = caller?.role === 'ADMIN';
    programIds = caller?.programIds ?? null;
  }
  if (!allowed) {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' });
    res.end('metrics need "Authorization: Bearer <METRICS_TOKEN or an ADMIN key>"\n');
    return;
  }
  const body = await metrics.render(programIds);
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
