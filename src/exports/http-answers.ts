/**
 * What the export routes share: the caller from `Authorization: Bearer`, the context GraphQL
 * resolvers get (so the same checks run), errors as JSON `{ "error": { code, message } }` with the
 * HTTP status of their code, and writing with backpressure.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { actorOf, type Caller, canRead } from '../auth/caller.js';
import { type Context, createLoaders, type Services } from '../context.js';
import { forbidden, keyRateLimited } from '../schema/errors.js';

const STATUS: Record<string, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
};

/**
 * A reader's context (VIEWER or ADMIN; FORBIDDEN for an INTEGRATION key, UNAUTHENTICATED without a
 * good key), within the rate limits a GraphQL request meets: a failure counts against the client's
 * address, and an export is one operation of its key's allowance (RATE_LIMITED, 429, once spent).
 */
export async function readerContext(req: IncomingMessage, services: Services): Promise<Context> {
  let caller: Caller;
  try {
    caller = await services.authenticator.authenticate(req.headers.authorization ?? null);
  } catch (error) {
    throw await services.rateLimits.refuseUnauthenticated(req, error);
  }
  if (!canRead(caller)) throw forbidden('this key may not read: exports need a VIEWER or ADMIN key');
  const waitMs = await services.rateLimits.takeKey(actorOf(caller));
  if (waitMs > 0) throw keyRateLimited(waitMs);
  return { services, caller, loaders: createLoaders(services) };
}

/**
 * Answers a caller's error as JSON with its status; true when it was one. Anything else is left to
 * the request handler, which logs it and masks it.
 */
export function answerError(res: ServerResponse, error: unknown): boolean {
  const code = error instanceof GraphQLError ? String(error.extensions.code ?? '') : '';
  const status = STATUS[code];
  if (status === undefined || res.headersSent) return false;
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  // Retry-After of RATE_LIMITED, as GraphQL answers it.
  const extra = (error as GraphQLError).extensions.http as { headers?: Record<string, string> } | undefined;
  Object.assign(headers, extra?.headers);
  res.writeHead(status, headers).end(JSON.stringify({ error: { code, message: (error as Error).message } }));
  return true;
}

/**
 * Writes `chunk`, and when the socket's buffer is full waits until the client has read it. False
 * when the client went away: the caller stops reading the database.
 */
export async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(chunk)) return true;
  return new Promise((resolve) => {
    const done = (open: boolean) => {
      res.off('drain', drained);
      res.off('close', closed);
      resolve(open);
    };
    const drained = () => done(!res.destroyed);
    const closed = () => done(false);
    res.on('drain', drained);
    res.on('close', closed);
  });
}

/**
 * Writes `chunk` and waits until the socket has taken it (its write callback), so the caller may
 * write into the same memory again: the events export reuses its buffers (export-buffer.ts). False when
 * the client went away; a client that stops reading holds the export here, as `write` does.
 */
export function send(res: ServerResponse, chunk: Uint8Array): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (open: boolean) => {
      res.off('close', closed);
      resolve(open);
    };
    const closed = () => done(false);
    res.on('close', closed);
    res.write(chunk, (error) => done(!error && !res.destroyed));
  });
}
