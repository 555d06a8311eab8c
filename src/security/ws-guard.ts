import type { IncomingMessage } from 'node:http';

/**
 * graphql-ws answers a client that sends a server's message (connection_ack, next, error) by
 * throwing inside its handler, which closes the socket with 4500 Internal Server Error and logs
 * a fault. A client's mistake is a bad request: this reviver refuses such a message while it is
 * parsed, so graphql-ws closes with 4400 "Invalid message received" instead.
 */
const SERVER_MESSAGES = new Set(['connection_ack', 'next', 'error']);

export function onlyClientMessages(key: string, value: unknown): unknown {
  if (
    key === '' &&
    typeof value === 'object' &&
    value !== null &&
    SERVER_MESSAGES.has((value as { type?: string }).type ?? '')
  ) {
    throw new Error('a client may not send this message type');
  }
  return value;
}

/**
 * Whether a WebSocket upgrade may go on: no Origin header (a non-browser client), the server's own
 * origin (the page it serves), or an origin CORS_ORIGINS lists. Browsers send Origin on every
 * upgrade, and a socket authenticates with connectionParams, so this is what keeps another site's
 * page from opening one with a key it has got hold of.
 */
export function allowedOrigin(req: IncomingMessage, corsOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (corsOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
