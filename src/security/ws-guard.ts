/**
 * graphql-ws answers a client that sends a server's message (connection_ack, next, error) by
 * throwing inside its handler, which closes the socket with 4500 Internal Server Error and logs
 * a fault. A client's mistake is a bad request: this reviver refuses such a message while it is
 * parsed, so graphql-ws closes with 4400 "Invalid message received" instead.
 */
const SERVER_MESSAGES = new Set(['connection_ack', 'next', 'error']);

export function onlyClientMessages(key: string, value: unknown): unknown {
  if (
    key === '' &&
    typeof value === 'object' &&
    value !== null &&
    SERVER_MESSAGES.has((value as { type?: string }).type ?? '')
  ) {
    throw new Error('a client may not send this message type');
  }
  return value;
}
