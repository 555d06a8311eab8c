/**
 * CORS by allow-list (CORS_ORIGINS). Yoga's default reflects any origin; ours answers a
 * cross-origin browser only when its origin is listed, and by default (empty list) no other origin
 * at all: the page served by this server is same-origin and needs no CORS header.
 *
 * Keys travel in the Authorization header, never in cookies, so credentials are not allowed.
 */
import type { Plugin, YogaServerOptions } from 'graphql-yoga';

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

/**
 * Every GraphQL answer says `Vary: Origin`: its CORS headers depend on the caller's origin, so a
 * shared cache must not hand one origin's answer to another.
 */
export function varyOnOrigin(): Plugin {
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary') ?? '';
      if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) response.headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
    },
  };
}
