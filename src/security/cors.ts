/**
 * CORS by allow-list (CORS_ORIGINS). Yoga's default reflects any origin; ours answers a
 * cross-origin browser only when its origin is listed, and by default (empty list) no other origin
 * at all: the page served by this server is same-origin and needs no CORS header.
 *
 * Keys travel in the Authorization header, never in cookies, so credentials are not allowed.
 */
import type { YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<object, object>['cors']>;

export function corsFor(allowed: readonly string[]): CorsOption {
  const origins = new Set(allowed);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !origins.has(origin)) return false;
    return {
      origin,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type'],
      credentials: false,
      maxAge: 600,
    };
  };
}
