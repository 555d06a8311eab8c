/**
 * graphql-ws (protocol graphql-transport-ws) on the HTTP server's GraphQL path. Every operation
 * goes through yoga.getEnveloped, so WebSocket and HTTP share one context factory, one plugin
 * stack and one authorization.
 *
 * Sockets are authorized twice: at connect (a missing, unknown or revoked key closes the socket
 * with 4403 before anything starts) and at every subscribe (the context factory authenticates
 * again; scope-auth and resolveScope do the rest). A revoked key's sockets are closed with 4403
 * as soon as the revocation is published, and a sweep re-checks every open socket's key at least
 * every `recheckMs`, in case a revocation was made where this instance could not hear it.
 */
import type { Server } from 'node:http';
import type { GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate } from '../auth/authenticate.js';
import type { Caller } from '../auth/caller.js';
import type { Services } from '../context.js';
import { onlyClientMessages } from '../security/ws-guard.js';
import { slowReaderGuard, type SlowReaderStats } from './slow-readers.js';

/** Going Away: what every socket hears when the server shuts down. */
export const SHUTDOWN_CLOSE = 1001;

export interface WebSocketOptions {
  server: Server;
  yoga: Pick<YogaServerInstance<any, any>, 'getEnveloped' | 'graphqlEndpoint'>;
  services: Services;
  /** Ping interval; a socket that does not answer within another interval is dropped. */
  keepAliveMs: number;
  /** How often open sockets' keys are checked again. */
  recheckMs?: number;
  /** How long shutdown waits for clients to answer the close before cutting them off. */
  closeGraceMs?: number;
}

export interface LiveSockets {
  /** Open, authorized sockets. */
  count(): number;
  /** Sockets closed for reading too slowly (4008), and the most bytes one socket held unsent. */
  slowReaders(): SlowReaderStats;
  /** Closes every socket with 1001 and stops accepting new ones. */
  close(): Promise<void>;
}

interface Connection {
  authorization: string;
  caller: Caller;
}

export function serveWebSockets(options: WebSocketOptions): LiveSockets {
  const { server, yoga, services, keepAliveMs, recheckMs = 30_000, closeGraceMs = 1_000 } = options;
  const { db, config, pubsub } = services;
  // A message is held to the same size as an HTTP body (LIMIT_BODY_BYTES); ws' own default is 100 MiB.
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: config.limits.bodyBytes });
  const connections = new Map<WebSocket, Connection>();
  // A socket with more than LIVE_MAX_BUFFERED_BYTES unsent is closed with 4008 (src/realtime/slow-readers.ts).
  const slow = slowReaderGuard(config.liveMaxBufferedBytes);
  wss.on('connection', slow.guard);

  const forbid = (socket: WebSocket, reason: string) => socket.close(CloseCode.Forbidden, reason);

  const graphqlWs = useServer<Record<string, unknown>, { socket: WebSocket; request: unknown }>(
    {
      // A client sending a server's message gets 4400, not 4500 (src/security/ws-guard.ts).
      jsonMessageReviver: onlyClientMessages,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        if (typeof authorization !== 'string') return false;
        try {
          const caller = await authenticate(db, config.adminApiKey, authorization);
          connections.set(ctx.extra.socket, { authorization, caller });
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      onClose: (ctx) => {
        connections.delete(ctx.extra.socket);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams,
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        let contextValue;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          // The key was revoked (or removed) since the socket connected.
          if ((error as GraphQLError).extensions?.code === 'UNAUTHENTICATED')
            forbid(ctx.extra.socket, 'API key no longer valid');
          return [error as GraphQLError];
        }
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
    keepAliveMs,
  );

  const closeKey = (keyId: string) => {
    for (const [socket, { caller }] of connections) if (caller.keyId === keyId) forbid(socket, 'API key revoked');
  };
  const revocations = pubsub.subscribe('keyRevoked');
  void (async () => {
    for await (const keyId of revocations) closeKey(keyId);
  })();

  // One authentication per distinct key, however many sockets share it.
  const recheck = setInterval(async () => {
    const byKey = new Map<string, WebSocket[]>();
    for (const [socket, { authorization }] of connections)
      byKey.set(authorization, [...(byKey.get(authorization) ?? []), socket]);
    for (const [authorization, sockets] of byKey) {
      try {
        await authenticate(db, config.adminApiKey, authorization);
      } catch (error) {
        if ((error as GraphQLError).extensions?.code === 'UNAUTHENTICATED')
          for (const socket of sockets) forbid(socket, 'API key no longer valid');
      }
    }
  }, recheckMs);
  recheck.unref();

  let closing: Promise<void> | null = null;
  return {
    count: () => connections.size,
    slowReaders: () => ({ ...slow.stats }),
    close: () =>
      (closing ??= (async () => {
        clearInterval(recheck);
        await revocations.return?.();
        const gone = [...wss.clients].map(
          (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
        );
        for (const socket of wss.clients) socket.close(SHUTDOWN_CLOSE, 'server shutting down');
        // A client that does not answer the close within the grace period is cut off.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(gone), new Promise((resolve) => (timer = setTimeout(resolve, closeGraceMs)))]);
        clearTimeout(timer);
        for (const socket of wss.clients) socket.terminate();
        await graphqlWs.dispose();
      })()),
  };
}
