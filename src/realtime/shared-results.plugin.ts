/**
 * One execution per live event and operation, however many subscribers receive it.
 *
 * GraphQL executes a subscription's selection once per event *per subscriber*. The live feed
 * hands every subscriber of a scope the same event object; when that object is marked with
 * shareResults() (shared-events.ts), subscribers that sent the same document and variables with the same role get
 * the same execution result, computed once. Unmarked events (anything else) execute as usual.
 *
 * Sharing is sound because a live scope is keyed by everything its dashboard depends on (programs,
 * visible-program set, range, buckets, zone): two subscribers on one event see the same data.
 */
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  getVariableValues,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { deliverDirect, liveChannelOf } from './direct-delivery.js';
import { hasSink, isShared } from './shared-events.js';

/** Results computed per event: operation key → result. Dropped with the event. */
const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/** Yoga caches parsed documents by query text, so equal queries arrive as one DocumentNode. */
function operationKey(args: ExecutionArgs): string {
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  const role = (args.contextValue as Context | undefined)?.caller?.role ?? '';
  return JSON.stringify([id, args.operationName ?? null, args.variableValues ?? null, role]);
}

export function useSharedLiveResults(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        // Bad variables answer BAD_USER_INPUT, as yoga's own executor answers them.
        const operation = getOperationAST(args.document, args.operationName);
        const variables = getVariableValues(
          args.schema,
          operation?.variableDefinitions ?? [],
          args.variableValues ?? {},
        );
        if (variables.errors) {
          for (const error of variables.errors) (error.extensions as Record<string, unknown>).code ??= 'BAD_USER_INPUT';
          return { errors: variables.errors };
        }
        const stream = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in stream)) return stream;
        const key = operationKey(args);
        const run = (event: unknown) => {
          if (!isShared(event)) return execute({ ...args, rootValue: event });
          let byOperation = results.get(event);
          if (!byOperation) results.set(event, (byOperation = new Map()));
          let result = byOperation.get(key);
          if (!result) byOperation.set(key, (result = execute({ ...args, rootValue: event })));
          return result;
        };
        // Over WebSocket, a live feed's results are written to the socket as they come (direct-delivery.ts).
        const channel = liveChannelOf(args.contextValue);
        if (channel && hasSink(stream)) return deliverDirect(stream, channel, run);
        return mapEvents(stream[Symbol.asyncIterator](), run);
      });
    },
  };
}

/**
 * Maps a stream of events to results. A hand-written iterator, not an async generator: return()
 * must end the source at once, even while it waits for an event that may never come.
 */
function mapEvents<T, R>(
  source: AsyncIterator<T>,
  map: (event: T) => R | Promise<R>,
): AsyncIterableIterator<R> & { return(): Promise<IteratorResult<R>> } {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const item = await source.next();
      return item.done ? { done: true, value: undefined } : { done: false, value: await map(item.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
  };
}
