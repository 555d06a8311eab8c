/**
 * gzip and br of answers above COMPRESS_FROM_BYTES, for GraphQL answers and the page's files alike,
 * by Express' kept `compression` middleware (negotiation, Vary: Accept-Encoding, HEAD, no-transform).
 * An encoding it does not know, or none, gets identity. Streams that must arrive event by event
 * (SSE, multipart subscriptions) are left alone: a compressor would hold each event back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import compression from 'compression';

/** Below about a kilobyte, the encoding's framing and the CPU cost outweigh the bytes saved. */
export const COMPRESS_FROM_BYTES = 1024;

const STREAMED = /^(text\/event-stream|multipart\/mixed)/i;

export function compressAnswers() {
  const middleware = compression({
    threshold: COMPRESS_FROM_BYTES,
    filter: (req, res) => {
      if (STREAMED.test(String(res.getHeader('content-type') ?? ''))) return false;
      return compression.filter(req, res);
    },
  });
  // The middleware only wraps res.write/end and calls next at once.
  return (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve, reject) =>
      middleware(req as never, res as never, (error?: unknown) => (error ? reject(error) : resolve())),
    );
}
