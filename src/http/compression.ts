/**
 * gzip and br of answers above COMPRESS_FROM_BYTES, for GraphQL answers and the page's files alike,
 * by Express' kept `compression` middleware (negotiation, Vary: Accept-Encoding, HEAD, no-transform).
 * An encoding it does not know, or none, gets identity. Streams that must arrive event by event
 * (SSE, multipart subscriptions) are left alone: a compressor would hold each event back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import compression from 'compression';

/** Below about a kilobyte, the encoding's framing and the CPU cost outweigh the bytes saved. */
export const COMPRESS_FROM_BYTES = 1024;

/**
 * Answers of a known length from this size up are compressed at the fastest levels (gzip 1, as
 * nginx's default; br quality 1) rather than `compression`'s defaults (gzip 6, br 4). A year's
 * breakdown by office with DAY series is 5.4 MB of JSON: br 4 took 75 ms of CPU for 813,730 bytes,
 * br 1 24 ms for 925,214 (gzip 6: 74 ms, 846,808; gzip 1: 33 ms, 1,021,941), and the encoder's time
 * is the answer's last ~50 ms. Below this size the default levels cost a few milliseconds at most.
 */
export const FAST_FROM_BYTES = 256 * 1024;

const STREAMED = /^(text\/event-stream|multipart\/mixed)/i;

const compressible = (req: IncomingMessage, res: ServerResponse) =>
  !STREAMED.test(String(res.getHeader('content-type') ?? '')) && compression.filter(req as never, res as never);

/** The answer's length where it is known before its first byte (GraphQL answers and files are). */
const lengthOf = (res: ServerResponse) => Number(res.getHeader('content-length') ?? Number.NaN);

export function compressAnswers() {
  const middlewares = [
    compression({
      threshold: COMPRESS_FROM_BYTES,
      filter: (req, res) => compressible(req, res) && !(lengthOf(res) >= FAST_FROM_BYTES),
    }),
    // The middleware takes its levels once, so large answers have one of their own. Both wrap the
    // response; the one whose filter takes an answer encodes it, the other sees it encoded and
    // passes it through.
    compression({
      threshold: FAST_FROM_BYTES,
      level: 1,
      brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } },
      filter: (req, res) => compressible(req, res) && lengthOf(res) >= FAST_FROM_BYTES,
    }),
  ];
  // Each middleware only wraps res.write/end and calls next at once.
  return async (req: IncomingMessage, res: ServerResponse) => {
    for (const middleware of middlewares)
      await new Promise<void>((resolve, reject) =>
        middleware(req as never, res as never, (error?: unknown) => (error ? reject(error) : resolve())),
      );
  };
}
