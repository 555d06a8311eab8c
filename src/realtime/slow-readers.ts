/**
 * A WebSocket reader that stops reading must not grow this process's memory. graphql-ws waits for
 * each message of a subscription to be flushed before sending its next, but a socket may carry
 * many subscriptions, and live pushes are written without waiting (direct-delivery.ts), so each
 * socket's unsent bytes are checked before every send: past the bound,
 * the socket is closed with 4008 and nothing more is queued for it. Unsent bytes therefore stay
 * below the bound plus one message.
 */
import type { WebSocket } from 'ws';

/** Policy-style close code (4000–4999 are the application's): this reader fell too far behind. */
export const SLOW_READER_CLOSE = 4008;

export interface SlowReaderStats {
  /** Sockets closed for falling behind. */
  closed: number;
  /** The most bytes any socket held unsent right after a send was queued. */
  peakBufferedBytes: number;
}

export function slowReaderGuard(maxBufferedBytes: number) {
  const stats: SlowReaderStats = { closed: 0, peakBufferedBytes: 0 };

  function guard(socket: WebSocket): void {
    const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
    socket.send = ((data: unknown, ...rest: unknown[]) => {
      if (socket.readyState === socket.OPEN && socket.bufferedAmount > maxBufferedBytes) {
        stats.closed++;
        socket.close(SLOW_READER_CLOSE, `client too slow: more than ${maxBufferedBytes} bytes unsent`);
      }
      if (socket.readyState !== socket.OPEN) {
        // Dropped on purpose; the callback still fires, so graphql-ws moves on and stops at its own open check.
        const callback = rest.find((r) => typeof r === 'function') as ((error?: Error) => void) | undefined;
        if (callback) process.nextTick(callback);
        return;
      }
      send(data, ...rest);
      stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, socket.bufferedAmount);
    }) as WebSocket['send'];
  }

  return { guard, stats };
}
