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
import type { IncomingMessage, Server } from 'node:http';
import type { DocumentNode, ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode, type Context, type SubscribePayload } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { authenticate } from '../auth/authenticate.js';
import type { Caller } from '../auth/caller.js';
import type { Services } from '../context.js';
import { userError } from '../schema/errors.js';
import { persistedHashOf, type PersistedOperations } from '../security/persisted-operations.js';
import { limitExceeded } from '../schema/errors.js';
import { allowedOrigin, onlyClientMessages } from '../security/ws-guard.js';
import type { LiveChannel } from './direct-delivery.js';
import { slowReaderGuard, type SlowReaderStats } from './slow-readers.js';

/** Going Away: what every socket hears when the server shuts down. */
export const SHUTDOWN_CLOSE = 1001;

export interface WebSocketOptions {
  server: Server;
  yoga: Pick<YogaServerInstance<any, any>, 'getEnveloped' | 'graphqlEndpoint'>;
  services: Services;
  /** Persisted and trusted documents: yoga's onParams, which checks them over HTTP, is not on this path. */
  persisted: PersistedOperations;
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

type Connections = Map<WebSocket, Connection>;
type Enveloped = WebSocketOptions['yoga'];

export function serveWebSockets(options: WebSocketOptions): LiveSockets {
  const { server, yoga, services, persisted, keepAliveMs, recheckMs = 30_000, closeGraceMs = 1_000 } = options;
  const { config, pubsub } = services;
  // A message is held to the same size as an HTTP body (LIMIT_BODY_BYTES); ws' own default is 100 MiB.
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: config.limits.bodyBytes,
    // Cross-site WebSocket hijacking: a browser's upgrade from an origin CORS_ORIGINS does not list is
    // refused with 403 (src/security/ws-guard.ts).
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, code?: number, reason?: string) => void) =>
      allowedOrigin(req, config.corsOrigins) ? done(true) : done(false, 403, 'origin not allowed'),
  });
  const connections: Connections = new Map();
  // A socket with more than LIVE_MAX_BUFFERED_BYTES unsent is closed with 4008 (src/realtime/slow-readers.ts).
  const slow = slowReaderGuard(config.liveMaxBufferedBytes);
  wss.on('connection', slow.guard);

  const graphqlWs = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
    {
      // A client sending a server's message gets 4400, not 4500 (src/security/ws-guard.ts).
      jsonMessageReviver: onlyClientMessages,
      execute: (args: any) => args.rootValue.execute(args),
      subscribe: (args: any) => args.rootValue.subscribe(args),
      onConnect: (ctx) =>
        admit(services, connections, ctx.extra.socket, ctx.extra.request, ctx.connectionParams?.authorization),
      onClose: (ctx) => {
        connections.delete(ctx.extra.socket);
      },
      // graphql-ws lists the operation being started among ctx.subscriptions already; past the
      // per-socket cap it is refused with an error of its own, and the socket stays usable.
      onSubscribe: (ctx, id, payload) =>
        Object.keys(ctx.subscriptions).length > config.liveSubscriptions.perSocket
          ? [
              limitExceeded(
                'subscriptionsPerSocket',
                config.liveSubscriptions.perSocket,
                `a socket may hold at most ${config.liveSubscriptions.perSocket} operations at once; complete one first`,
              ),
            ]
          : prepareOperation(yoga, persisted, ctx, id, payload),
    },
    wss,
    keepAliveMs,
  );

  const revocations = closeOnRevocation(pubsub, connections);
  const recheck = setInterval(() => void recheckKeys(services, connections), recheckMs);
  recheck.unref();

  let closing: Promise<void> | null = null;
  return {
    count: () => connections.size,
    slowReaders: () => ({ ...slow.stats }),
    close: () =>
      (closing ??= (async () => {
        clearInterval(recheck);
        await revocations.return?.();
        await closeEvery(wss, closeGraceMs);
        await graphqlWs.dispose();
      })()),
  };
}

const forbid = (socket: WebSocket, reason: string) => socket.close(CloseCode.Forbidden, reason);

/**
 * connection_init: a socket without a valid key is refused (graphql-ws closes it with 4403
 * Forbidden); once its address has spent its allowance for those, with 4429 instead.
 */
async function admit(
  services: Services,
  connections: Connections,
  socket: WebSocket,
  request: IncomingMessage,
  authorization: unknown,
): Promise<boolean> {
  try {
    if (typeof authorization !== 'string') throw new Error('no key');
    const caller = await authenticate(services.db, services.config.adminApiKey, authorization);
    connections.set(socket, { authorization, caller });
    return true;
  } catch (error) {
    const answer = await services.rateLimits.refuseUnauthenticated(request, error);
    if (answer !== error) socket.close(4429, (answer as Error).message);
    return false;
  }
}

/** subscribe: the operation parsed, validated and given its context by yoga's own envelop stack. */
async function prepareOperation(
  yoga: Enveloped,
  persisted: PersistedOperations,
  ctx: Context<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>,
  id: string,
  payload: SubscribePayload,
): Promise<ExecutionArgs | readonly GraphQLError[]> {
  const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
    ...ctx,
    req: ctx.extra.request,
    socket: ctx.extra.socket,
    // Where a live feed's pushes are written without graphql-ws' per-subscription iteration (direct-delivery.ts).
    liveChannel: { socket: ctx.extra.socket, id } satisfies LiveChannel,
    params: payload,
    connectionParams: ctx.connectionParams,
  });
  let document: DocumentNode;
  try {
    document = parse(documentOf(persisted, payload));
  } catch (error) {
    return [error as GraphQLError];
  }
  const errors = validate(schema, document);
  if (errors.length) return errors;
  let contextValue: Awaited<ReturnType<typeof contextFactory>>;
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
}

/** A published revocation closes the key's sockets at once, with 4403. */
function closeOnRevocation(pubsub: Services['pubsub'], connections: Connections) {
  const revocations = pubsub.subscribe('keyRevoked');
  void (async () => {
    for await (const keyId of revocations) {
      for (const [socket, { caller }] of connections) if (caller.keyId === keyId) forbid(socket, 'API key revoked');
    }
  })();
  return revocations;
}

/** The sweep for revocations this instance did not hear: one authentication per distinct key, however many sockets share it. */
async function recheckKeys(services: Services, connections: Connections): Promise<void> {
  const byKey = new Map<string, WebSocket[]>();
  for (const [socket, { authorization }] of connections)
    byKey.set(authorization, [...(byKey.get(authorization) ?? []), socket]);
  for (const [authorization, sockets] of byKey) {
    try {
      await authenticate(services.db, services.config.adminApiKey, authorization);
    } catch (error) {
      if ((error as GraphQLError).extensions?.code === 'UNAUTHENTICATED')
        for (const socket of sockets) forbid(socket, 'API key no longer valid');
    }
  }
}

/** Every socket hears 1001; a client that does not answer the close within the grace period is cut off. */
async function closeEvery(wss: WebSocketServer, closeGraceMs: number): Promise<void> {
  const gone = [...wss.clients].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));
  for (const socket of wss.clients) socket.close(SHUTDOWN_CLOSE, 'server shutting down');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(gone), new Promise((resolve) => (timer = setTimeout(resolve, closeGraceMs)))]);
  clearTimeout(timer);
  for (const socket of wss.clients) socket.terminate();
}

/** The text to run: the payload's (trusted, in PERSISTED_OPERATIONS=only), or the one its hash names. */
function documentOf(persisted: PersistedOperations, payload: SubscribePayload): string {
  const hash = persistedHashOf(payload);
  if (payload.query === '' && hash !== null) {
    const kept = persisted.lookup(hash);
    if (kept === null) throw userError('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound');
    return kept;
  }
  persisted.admits(payload.query, hash);
  return payload.query;
}
