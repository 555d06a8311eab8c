/**
 * `/metrics` holds every program's KPIs, so it is never open: Prometheus sends
 * `Authorization: Bearer <METRICS_TOKEN>` (or an ADMIN key, e.g. in development).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameSecret } from '../auth/keys.repository.js';
import type { RouteParts } from './routes.js';

export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  { metrics, config, services }: RouteParts,
) {
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
