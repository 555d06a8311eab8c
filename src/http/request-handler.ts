/**
 * Every HTTP request's one way in: a request id, a JSON log line and the request metrics, then the
 * route of src/http/routes.ts that its path names (the page's files for any other path).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdOf } from '../metrics/logger.js';
import { compressAnswers } from './compression.js';
import { PAGE_ROUTE, routeFor, type RouteParts } from './routes.js';

export type RequestHandlerParts = RouteParts;

export function createRequestHandler(parts: RequestHandlerParts) {
  const { metrics, logger } = parts;
  const compress = compressAnswers();

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const reqId = requestIdOf(req.headers['x-request-id']);
    // Yoga and its plugins read the same id from the request.
    req.headers['x-request-id'] = reqId;
    res.setHeader('x-request-id', reqId);
    const pathname = (req.url ?? '/').split('?')[0];
    const route = routeFor(pathname);
    // Few, fixed labels, so the metrics' label sets stay small whatever paths are asked for.
    const label = route === PAGE_ROUTE ? 'page' : route.path;
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(req.method ?? 'GET', label, res.statusCode, seconds);
      const line = {
        reqId,
        method: req.method,
        path: pathname,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        aborted: !res.writableFinished,
      };
      if (res.statusCode >= 500) logger.error(line, 'request');
      else if (route.quiet) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });

    try {
      // Any other path may be a file of the page, or yoga's 404: the page route checks for itself.
      if (route !== PAGE_ROUTE && !route.methods.includes(req.method ?? 'GET')) {
        res.writeHead(405, { allow: route.methods.join(', ') }).end();
        return;
      }
      if (route.compress) await compress(req, res);
      await route.handle(req, res, parts);
    } catch (error) {
      logger.error({ reqId, err: error }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  };
}
