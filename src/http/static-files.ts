/**
 * The dashboard page's static files (web/dist, built by `npm run build:web`), served by the same
 * server at `/`. Only files under the root are served; hashed assets are cached for good, the
 * HTML never, so a new build reaches browsers at once.
 */
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import etag from 'etag';
import fresh from 'fresh';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** What the page may do: its own scripts and styles, and talk to this origin (HTTP and WebSocket). */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const WEB_ROOT = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Serves the file the request names; false when there is none, so the caller may answer otherwise.
 * Every file has an ETag (size and time), so a browser revalidating the HTML gets 304 when nothing
 * changed. In production, source maps (the whole source) are not served.
 */
export async function serveStatic(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  options: { production: boolean } = { production: false },
): Promise<boolean> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return false;
  }
  if (pathname.endsWith('/')) pathname += 'index.html';
  const file = path.join(root, path.normalize(pathname));
  if (!file.startsWith(root + path.sep)) return false;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    if (pathname === '/index.html') return notBuilt(res);
    return false;
  }
  const ext = path.extname(file);
  if (ext === '.map' && options.production) return false;
  const tag = etag(info as Stats);
  const headers = {
    etag: tag,
    'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...(ext === '.html' ? PAGE_HEADERS : { 'x-content-type-options': 'nosniff' }),
  };
  if (fresh(req.headers, { etag: tag })) {
    res.writeHead(304, headers).end();
    return true;
  }
  res.writeHead(200, {
    ...headers,
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': info.size,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}

function notBuilt(res: ServerResponse): true {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('The dashboard page is not built yet: run `npm run build:web` (the GraphQL API is at /graphql).\n');
  return true;
}
