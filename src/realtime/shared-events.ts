/**
 * Live events that are the same for every receiver (the live feed's dashboards: one per scope and
 * change). Marking one lets the executor plugin (shared-results.plugin.ts) execute each operation
 * on it once for all its subscribers; the feed need know nothing of the executor.
 *
 * A stream of such events may also offer them to a callback (attachSink): a WebSocket subscription
 * then receives each one without an async iterator per subscriber (direct-delivery.ts).
 */
const shared = new WeakSet<object>();

/** Marks a live event as the same for all its receivers, so their executions may be shared. */
export function shareResults<T extends object>(event: T): T {
  shared.add(event);
  return event;
}

export function isShared(event: unknown): event is object {
  return typeof event === 'object' && event !== null && shared.has(event);
}

/** Where a stream's events go instead of through its iterator. */
export interface Sink<T> {
  /** Called synchronously for each event, in order. */
  push(event: T): void;
  /** The stream ended on its own (the feed closed): nothing more will come. */
  end(): void;
}

export const attachSink = Symbol('attachSink');

/** A stream whose events can be handed to a sink instead; the returned function detaches it. */
export interface SinkSource<T> {
  [attachSink](sink: Sink<T>): () => void;
}

export function hasSink<T = unknown>(stream: unknown): stream is SinkSource<T> {
  return typeof stream === 'object' && stream !== null && attachSink in stream;
}
