/**
 * Errors a caller can cause, each with its extensions.code. Anything else thrown is an internal
 * error, and yoga masks it.
 */
// graphql's own GraphQLError, not yoga's createGraphQLError (the same thing on graphql 16): the
// SQLite writer thread builds these errors too, and need not load the whole server to do so.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  /** A request over one of the limits in src/security/limits.ts. */
  | 'LIMIT_EXCEEDED'
  /** The key's request budget is spent for now; extensions.retryAfterSeconds says when to try again. */
  | 'RATE_LIMITED'
  /** The server has more work queued than it may hold (HTTP 503, Retry-After): nothing was stored; retry. */
  | 'OVERLOADED'
  /** The server is shutting down and takes no new requests (HTTP 503, Retry-After): retry, another instance may take it. */
  | 'SHUTTING_DOWN'
  /** A hash-only request whose document this server does not hold yet (Apollo's link then sends the text). */
  | 'PERSISTED_QUERY_NOT_FOUND'
  /** extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it: refused, not kept. */
  | 'PERSISTED_QUERY_HASH_MISMATCH'
  /** PERSISTED_OPERATIONS=only and the document is not a trusted one: refused before parsing. */
  | 'OPERATION_NOT_TRUSTED';

const status: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  LIMIT_EXCEEDED: 400,
  RATE_LIMITED: 429,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  PERSISTED_QUERY_NOT_FOUND: 400,
  PERSISTED_QUERY_HASH_MISMATCH: 400,
  OPERATION_NOT_TRUSTED: 400,
};

const REQUEST_LEVEL = new Set<ErrorCode>([
  'UNAUTHENTICATED',
  'LIMIT_EXCEEDED',
  'RATE_LIMITED',
  'OVERLOADED',
  'SHUTTING_DOWN',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_HASH_MISMATCH',
  'OPERATION_NOT_TRUSTED',
]);

export function userError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  // Only errors that refuse the whole request change the HTTP status: the rest stay 200 like any GraphQL answer.
  const http = REQUEST_LEVEL.has(code) ? { http: { status: status[code] } } : {};
  return new GraphQLError(message, { extensions: { code, ...extra, ...http } });
}

/** A bad value: the message names the field and the rule, e.g. `score must be between 1 and 5`. */
export const badInput = (field: string, rule: string) => userError('BAD_USER_INPUT', `${field} ${rule}`, { field });
export const notFound = (what: string, id: string) => userError('NOT_FOUND', `${what} "${id}" was not found`);
export const conflict = (message: string) => userError('CONFLICT', message);
export const forbidden = (message = 'this key may not do that') => userError('FORBIDDEN', message);
export const unauthenticated = (message: string) => userError('UNAUTHENTICATED', message);

/** `limit` names the limit (depth, aliases, ...), `max` its value; a body too large answers 413. */
export const limitExceeded = (limit: string, max: number, message: string, httpStatus = status.LIMIT_EXCEEDED) =>
  new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED', limit, max, http: { status: httpStatus } } });
/** A limiter's wait in milliseconds as the whole seconds a Retry-After says: at least 1. */
export const secondsToWait = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000));
/**
 * An allowance spent, with its Retry-After; `message` where the advice to send batches does not fit
 * (a route other than GraphQL's, a caller without a valid key).
 */
export const rateLimited = (
  retryAfterSeconds: number,
  message = `too many requests for this key: retry in ${retryAfterSeconds} s, and send events in batches (recordEvents)`,
) =>
  new GraphQLError(message, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfterSeconds,
      http: { status: status.RATE_LIMITED, headers: { 'Retry-After': String(retryAfterSeconds) } },
    },
  });
/** RATE_LIMITED for a key on a route other than GraphQL (an export, an import), after the limiter's wait. */
export const keyRateLimited = (waitMs: number) => {
  const seconds = secondsToWait(waitMs);
  return rateLimited(seconds, `too many requests for this key: retry in ${seconds} s`);
};
/** Refused for load, not for anything the caller did: the same request may succeed after `retryAfterSeconds`. */
export const overloaded = (what: string, retryAfterSeconds = 1) =>
  new GraphQLError(`the server is overloaded (${what}): nothing was stored; retry in ${retryAfterSeconds} s`, {
    extensions: {
      code: 'OVERLOADED',
      retryAfterSeconds,
      http: { status: status.OVERLOADED, headers: { 'Retry-After': String(retryAfterSeconds) } },
    },
  });
