/**
 * Graceful shutdown of the HTTP side: once draining, new requests are refused with 503
 * SHUTTING_DOWN (and their connection closed), while requests already in flight run to their end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface Drainable {
  handler: Handler;
  /** Requests being answered now (server-sent event streams excepted: they end with the feed). */
  inFlight(): number;
  /** Refuses new requests from now on; resolves once those in flight are answered, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
}

export function drainable(handler: Handler): Drainable {
  let inFlight = 0;
  let draining = false;
  let settled: (() => void) | null = null;

  return {
    handler(req, res) {
      if (draining) return refuse(res);
      // A live stream never ends by itself; shutdown ends it by closing the feed.
      if (String(req.headers.accept).includes('text/event-stream')) return handler(req, res);
      inFlight++;
      res.once('close', () => {
        inFlight--;
        if (inFlight === 0) settled?.();
      });
      return handler(req, res);
    },
    inFlight: () => inFlight,
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

function refuse(res: ServerResponse) {
  const body = JSON.stringify({
    errors: [{ message: 'the server is shutting down and takes no new requests: retry', extensions: { code: 'SHUTTING_DOWN' } }],
  });
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close' });
  res.end(body);
}
