/**
 * One JSON serialization per pushed result, however many subscribers receive it.
 *
 * Subscribers of one live scope get the very same execution result (shared-results.plugin.ts);
 * graphql-ws would build and stringify a `next` message per subscription: 20,000 subscribers meant
 * 20,000 JSON.stringify calls of the same dashboard. Here the payload's JSON is made once (kept
 * with the result, so it goes when the result does) and each subscription's message is that JSON
 * behind its own id, byte for byte what graphql-ws' stringifyMessage would have sent.
 */
import type { ExecutionResult } from 'graphql';

const json = new WeakMap<ExecutionResult, string>();

export const sharedPayloadStats = { serialized: 0, messages: 0 };

/**
 * The payload's JSON for a result that holds `data` alone; undefined for anything else (errors
 * must go through yoga's masking first, so such a result takes graphql-ws' own path).
 */
export function payloadJson(result: ExecutionResult): string | undefined {
  const { data } = result;
  if (typeof data !== 'object' || data === null) return undefined;
  for (const key in result) if (key !== 'data') return undefined;
  let text = json.get(result);
  if (text === undefined) {
    json.set(result, (text = JSON.stringify({ data })));
    sharedPayloadStats.serialized++;
  }
  return text;
}

/** graphql-transport-ws' `next` messages of subscription `id`, each around a payload's JSON. */
export function nextMessages(id: string): (payload: string) => string {
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (payload) => {
    sharedPayloadStats.messages++;
    return `${head}${payload}}`;
  };
}
