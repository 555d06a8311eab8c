/**
 * Live events that are the same for every receiver (the live feed's dashboards: one per scope and
 * change). Marking one lets the executor plugin (shared-results.plugin.ts) execute each operation
 * on it once for all its subscribers; the feed need know nothing of the executor.
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
