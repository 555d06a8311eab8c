/**
 * One JSON serialization per pushed result, however many subscribers receive it.
 *
 * Subscribers of one live scope get the very same execution result (shared-results.plugin.ts), but
 * graphql-ws builds and stringifies a `next` message per subscription: 20,000 subscribers meant
 * 20,000 JSON.stringify calls of the same dashboard. Here the result's JSON is made once (kept with
 * its `data` object, so it goes when the result does) and each message is spliced around it:
 *   - graphql-ws' onNext hands it a stand-in payload whose toJSON leaves a placeholder string and
 *     sets the JSON aside for the send that follows (graphql-ws sends right after stringifying,
 *     in the same synchronous step);
 *   - each socket's send puts the JSON where the placeholder is (the payload is the message's last
 *     field: `{"id":…,"type":"next","payload":…}`).
 * The placeholder carries a random nonce, so no client-chosen id can imitate it. A result with
 * errors or anything beside `data` goes the usual way.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';

const PLACEHOLDER = `kpi-shared-payload:${randomUUID()}`;
/** How the placeholder appears at the end of a stringified message. */
const TAIL = `${JSON.stringify(PLACEHOLDER)}}`;
const json = new WeakMap<object, string>();
/** The JSON of the payload stringified last, for the send that follows it. */
let pending: string | null = null;

export const sharedPayloadStats = { serialized: 0, spliced: 0 };

/** graphql-ws' onNext: a stand-in payload for a shareable result, or undefined for the usual one. */
export function sharedPayload(result: ExecutionResult): object | undefined {
  const { data } = result;
  if (typeof data !== 'object' || data === null) return undefined;
  for (const key in result) if (key !== 'data') return undefined;
  let text = json.get(data);
  if (text === undefined) {
    json.set(data, (text = JSON.stringify({ data })));
    sharedPayloadStats.serialized++;
  }
  const payload = text;
  return {
    toJSON() {
      pending = payload;
      return PLACEHOLDER;
    },
  };
}

/** Wraps a socket's send so that a message holding the placeholder goes out with the payload's JSON. */
export function spliceSharedPayloads(socket: WebSocket): void {
  const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    if (pending !== null && typeof data === 'string' && data.endsWith(TAIL)) {
      data = `${data.slice(0, data.length - TAIL.length)}${pending}}`;
      sharedPayloadStats.spliced++;
    }
    pending = null;
    send(data, ...rest);
  }) as WebSocket['send'];
}
