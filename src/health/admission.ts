/**
 * Which HTTP requests the server takes on. Under overload, a request beyond `maxInFlight` is
 * refused at once with 503 OVERLOADED, so waiting work stays bounded instead of queueing without
 * limit; health probes are always answered. While shutting down, new requests are refused with
 * 503 SHUTTING_DOWN, and those in flight run to their end.
 *
 * A request counts once its body has arrived, not when its headers have: a client that sends a
 * body slowly holds a socket, never a slot of the bound, so 300 sockets trickling bytes cannot
 * lock every other client out. How long a body may take is HTTP_REQUEST_TIMEOUT_MS from its
 * headers (408 past it; the headers themselves: Node's `headersTimeout`, HTTP_HEADERS_TIMEOUT_MS),
 * and how large it may be is LIMIT_BODY_BYTES (413 past it, while it is read). Server-sent event
 * streams count too, for as long as they stay open.
 *
 * Streamed routes (`POST /import/events`) are the exception: their body is the work, read as it is
 * written, of any length. They count in flight from their headers on, and are bounded by neither
 * LIMIT_BODY_BYTES nor HTTP_REQUEST_TIMEOUT_MS as a whole: the route cuts a body that stays silent
 * that long instead (src/exports/import-events.ts). That is why this module, not Node's
 * `requestTimeout` (one value for the whole server), times bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface Admission {
  handler: Handler;
  /** Requests being answered now, server-sent event streams included. */
  inFlight(): number;
  /** Requests refused for overload so far. */
  refused(): number;
  /**
   * Refuses new requests from now on; resolves once those in flight, and those whose body was
   * arriving, are answered (event streams excepted: shutdown ends them by closing the feed), or
   * after `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<void>;
}

export interface AdmissionOptions {
  maxInFlight: number;
  /** LIMIT_BODY_BYTES: a body that declares or sends more is refused with 413. */
  maxBodyBytes: number;
  /** HTTP_REQUEST_TIMEOUT_MS: a body not all there this long after its headers is answered 408. */
  bodyTimeoutMs: number;
  /** Paths whose body the handler reads as it streams in (no body limit, no body timeout here). */
  streamedPaths?: ReadonlySet<string>;
}

const PROBES = new Set(['/health', '/ready']);

export function admission(
  handler: Handler,
  { maxInFlight, maxBodyBytes, bodyTimeoutMs, streamedPaths = new Set() }: AdmissionOptions,
): Admission {
  let inFlight = 0;
  let streams = 0;
  // Requests whose headers came and whose body is still arriving: not in flight, but shutdown waits for them.
  let receiving = 0;
  let refused = 0;
  let draining = false;
  let settled: (() => void) | null = null;

  const busy = () => inFlight - streams + receiving;
  const settle = () => {
    if (busy() === 0) settled?.();
  };

  /** `taken`: its headers came before shutdown began, so shutdown answers it. */
  function admit(req: IncomingMessage, res: ServerResponse, taken = false) {
    if (draining && !taken)
      return refuse(res, 'SHUTTING_DOWN', 'the server is shutting down and takes no new requests: retry');
    if (inFlight >= maxInFlight) {
      refused++;
      return refuse(
        res,
        'OVERLOADED',
        `the server is overloaded (${inFlight} requests in flight): nothing was done; retry in 1 s`,
      );
    }
    const stream = String(req.headers.accept).includes('text/event-stream');
    inFlight++;
    if (stream) streams++;
    res.once('close', () => {
      inFlight--;
      if (stream) streams--;
      settle();
    });
    return handler(req, res);
  }

  return {
    handler(req, res) {
      const pathname = (req.url ?? '/').split('?')[0];
      if (PROBES.has(pathname)) return handler(req, res);
      if (draining) return refuse(res, 'SHUTTING_DOWN', 'the server is shutting down and takes no new requests: retry');
      if (!hasBody(req) || streamedPaths.has(pathname)) return admit(req, res);
      const declared = Number(req.headers['content-length']);
      if (declared > maxBodyBytes) return tooLarge(res, maxBodyBytes);
      receiving++;
      void readBody(req, maxBodyBytes, bodyTimeoutMs).then((body) => {
        try {
          if (body === 'too large') return tooLarge(res, maxBodyBytes);
          if (body === 'timed out') return timedOut(req, res);
          // Gone (closed, or cut off by requestTimeout with 408): nothing to answer.
          if (body === null) return;
          // Yoga's Node adapter takes a body that was already read from `req.body` (an async
          // iterable, so it is not copied again).
          (req as { body?: unknown }).body = {
            bytes: body.byteLength,
            async *[Symbol.asyncIterator]() {
              yield body;
            },
          };
          return admit(req, res, true);
        } finally {
          // After admit has counted it in flight, so a drain never sees a moment with neither.
          receiving--;
          settle();
        }
      });
    },
    inFlight: () => inFlight,
    refused: () => refused,
    async drain(timeoutMs) {
      draining = true;
      if (busy() === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        settled = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    },
  };
}

function hasBody(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * The whole body, 'too large' once it passes `max` bytes, 'timed out' when it is not all there
 * `timeoutMs` after its headers, or null when the client went away.
 */
function readBody(
  req: IncomingMessage,
  max: number,
  timeoutMs: number,
): Promise<Buffer | 'too large' | 'timed out' | null> {
  return new Promise((settle) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.off('data', onData);
      req.pause();
      settle('timed out');
    }, timeoutMs);
    const resolve = (body: Buffer | 'too large' | null) => {
      clearTimeout(timer);
      settle(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(size > max ? 'too large' : Buffer.concat(chunks, size)));
    req.once('error', () => resolve(null));
    req.once('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

/** What Node's own requestTimeout answers (408, and the connection closed), in the same JSON shape as other refusals. */
function timedOut(req: IncomingMessage, res: ServerResponse) {
  const message = 'the request body did not arrive within HTTP_REQUEST_TIMEOUT_MS';
  res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code: 'REQUEST_TIMEOUT' } }] }), () =>
    req.socket.destroy(),
  );
}

/** The same JSON shape as any GraphQL error, so clients read one format; Retry-After makes it retryable. */
function refuse(res: ServerResponse, code: 'OVERLOADED' | 'SHUTTING_DOWN', message: string) {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, retryAfterSeconds: 1 } }] });
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
  res.end(body);
}

/** LIMIT_BODY_BYTES, as the body-limit plugin words it for bodies that reach yoga another way (src/security/limits.ts). */
function tooLarge(res: ServerResponse, max: number) {
  const message = `the request body exceeds the limit of ${max} bytes; split large batches`;
  const body = JSON.stringify({
    errors: [{ message, extensions: { code: 'LIMIT_EXCEEDED', limit: 'bodyBytes', max } }],
  });
  res.writeHead(413, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(body);
}
