/**
 * Which HTTP requests the server takes on. Under overload, a request beyond `maxInFlight` is
 * refused at once with 503 OVERLOADED (before its body is read), so waiting work stays bounded
 * instead of queueing without limit; health probes are always answered. While shutting down,
 * new requests are refused with 503 SHUTTING_DOWN, and those in flight run to their end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface Admission {
  handler: Handler;
  /** Requests being answered now (server-sent event streams excepted: they end with the feed). */
  inFlight(): number;
  /** Requests refused for overload so far. */
  refused(): number;
  /** Refuses new requests from now on; resolves once those in flight are answered, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

const PROBES = new Set(['/health', '/ready']);

export function admission(handler: Handler, { maxInFlight }: { maxInFlight: number }): Admission {
  let inFlight = 0;
  let refused = 0;
  let draining = false;
  let settled: (() => void) | null = null;

  return {
    handler(req, res) {
      const probe = PROBES.has((req.url ?? '/').split('?')[0]);
      if (draining && !probe)
        return refuse(res, 'SHUTTING_DOWN', 'the server is shutting down and takes no new requests: retry');
      // A live stream never ends by itself; shutdown ends it by closing the feed.
      if (probe || String(req.headers.accept).includes('text/event-stream')) return handler(req, res);
      if (inFlight >= maxInFlight) {
        refused++;
        return refuse(
          res,
          'OVERLOADED',
          `the server is overloaded (${inFlight} requests in flight): nothing was done; retry in 1 s`,
        );
      }
      inFlight++;
      res.once('close', () => {
        inFlight--;
        if (inFlight === 0) settled?.();
      });
      return handler(req, res);
    },
    inFlight: () => inFlight,
    refused: () => refused,
    async drain(timeoutMs) {
      draining = true;
      if (inFlight === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        settled = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    },
  };
}

/** The same JSON shape as any GraphQL error, so clients read one format; Retry-After makes it retryable. */
function refuse(res: ServerResponse, code: 'OVERLOADED' | 'SHUTTING_DOWN', message: string) {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, retryAfterSeconds: 1 } }] });
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
  res.end(body);
}
