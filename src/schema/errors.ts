/**
 * Errors a caller can cause, each with its extensions.code. Anything else thrown is an internal
 * error, and yoga masks it.
 */
import { createGraphQLError } from 'graphql-yoga';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN';

const status: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
};

export function userError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
  // Only UNAUTHENTICATED changes the HTTP status: the rest stay 200 like any GraphQL answer.
  const http = code === 'UNAUTHENTICATED' ? { http: { status: status[code] } } : {};
  return createGraphQLError(message, { extensions: { code, ...extra, ...http } });
}

/** A bad value: the message names the field and the rule, e.g. `score must be between 1 and 5`. */
export const badInput = (field: string, rule: string) =>
  userError('BAD_USER_INPUT', `${field} ${rule}`, { field });
export const notFound = (what: string, id: string) => userError('NOT_FOUND', `${what} "${id}" was not found`);
export const conflict = (message: string) => userError('CONFLICT', message);
export const forbidden = (message = 'this key may not do that') => userError('FORBIDDEN', message);
export const unauthenticated = (message: string) => userError('UNAUTHENTICATED', message);
