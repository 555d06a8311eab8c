/**
 * Live pushes written straight to the WebSocket, without an async iterator per subscriber.
 *
 * graphql-ws carries each subscription's results through a chain of async iterators (the feed's
 * own, the executor's, then every plugin that wraps the stream: admission, revocation, yoga's
 * error masking, metrics) and a chain of promises per message. With 20,000 subscribers of one
 * scope, that per-subscriber machinery and its garbage were most of a push's cost. Here a
 * WebSocket subscription of a stream that accepts a sink (the live feed, shared-events.ts) joins
 * it directly: each event is executed once per operation for all subscribers
 * (shared-results.plugin.ts), serialized once (shared-payloads.ts) and written to each socket in
 * the same synchronous step.
 *
 * The iterator handed to graphql-ws still stands for the subscription: it starts the delivery when
 * graphql-ws starts iterating, it ends when the stream ends (graphql-ws then sends `complete`), and
 * its return() (the client's `complete`, the socket's close, a revoked key) detaches the sink at once.
 * A result that is not plain data (errors, which yoga must mask first) is yielded through it
 * instead, and later results follow the same way until graphql-ws has sent it, so a subscriber
 * receives every state in order. A later state replaces one not yet taken, as the feed's buffer of
 * one does: a slow path skips intermediate states, never the last one.
 */
import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { attachSink, type SinkSource } from './shared-events.js';
import { nextMessages, payloadJson } from './shared-payloads.js';

/** The socket and operation id of a WebSocket subscription, in its context (ws.server.ts puts it there). */
export interface LiveChannel {
  socket: WebSocket;
  id: string;
}

export function liveChannelOf(contextValue: unknown): LiveChannel | null {
  return (contextValue as { liveChannel?: LiveChannel } | null)?.liveChannel ?? null;
}

type Outcome = { result: ExecutionResult } | { error: unknown };
type Execute<T> = (event: T) => ExecutionResult | PromiseLike<ExecutionResult>;

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export function deliverDirect<T>(
  source: SinkSource<T> & { return?(): unknown },
  channel: LiveChannel,
  execute: Execute<T>,
): AsyncIterableIterator<ExecutionResult> {
  const message = nextMessages(channel.id);
  let detach: (() => void) | null = null;
  let ended = false;
  /** Events received, and the last one whose result was delivered or held (results may settle out of order). */
  let received = 0;
  let settled = 0;
  /** A result for graphql-ws' own path, not yet taken. */
  let held: Outcome | null = null;
  /** A result was taken and graphql-ws has not asked for the next yet: it is still being sent. */
  let handedOut = false;
  let waiting: { resolve(item: IteratorResult<ExecutionResult>): void; reject(error: unknown): void } | null = null;

  const handOut = (outcome: Outcome): Promise<IteratorResult<ExecutionResult>> => {
    handedOut = true;
    if (!('error' in outcome)) return Promise.resolve({ done: false, value: outcome.result });
    // graphql-ws reports the failure and ends the operation without calling return(): leave the scope here.
    stop();
    return Promise.reject(outcome.error);
  };

  function settle(seq: number, outcome: Outcome) {
    if (ended || seq <= settled) return;
    settled = seq;
    if ('result' in outcome && !handedOut && held === null) {
      const payload = payloadJson(outcome.result);
      if (payload !== undefined) {
        // The socket's send is guarded against slow readers (slow-readers.ts), and drops what a closed socket cannot take.
        corkForThisTick(channel.socket);
        channel.socket.send(message(payload));
        return;
      }
    }
    held = outcome;
    if (waiting) {
      const { resolve, reject } = waiting;
      waiting = null;
      held = null;
      handOut(outcome).then(resolve, reject);
    }
  }

  function push(event: T) {
    if (ended) return;
    const seq = ++received;
    let result: ReturnType<Execute<T>>;
    try {
      result = execute(event);
    } catch (error) {
      settle(seq, { error });
      return;
    }
    if (isPromiseLike(result))
      result.then(
        (value) => settle(seq, { result: value }),
        (error) => settle(seq, { error }),
      );
    else settle(seq, { result });
  }

  /** Ended from graphql-ws' side (the client's complete, the socket's close, a revoked key). */
  function close() {
    stop();
    held = null;
    const pending = waiting;
    waiting = null;
    pending?.resolve(DONE);
  }

  function stop() {
    if (ended) return;
    ended = true;
    detach?.();
    void source.return?.();
  }

  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      handedOut = false;
      if (detach === null && !ended)
        detach = source[attachSink]({
          push,
          end: () => {
            stop();
            const pending = waiting;
            waiting = null;
            pending?.resolve(DONE);
          },
        });
      if (held !== null) {
        const outcome = held;
        held = null;
        return handOut(outcome);
      }
      if (ended) return Promise.resolve(DONE);
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    async return() {
      close();
      return DONE;
    },
    async throw(error?: unknown) {
      close();
      throw error;
    },
  };
}

/**
 * A push reaches every subscriber in one synchronous run (one microtask drain): each socket is
 * corked at its first message and uncorked once the run is over, so a page's several subscriptions
 * leave in one write (one system call) instead of one each. ws keeps its net.Socket as `_socket`
 * and corks around each frame itself, so an outer cork only delays the flush, never reorders.
 */
const corked = new Set<Duplex>();

function corkForThisTick(socket: WebSocket) {
  const raw = (socket as unknown as { _socket?: Duplex })._socket;
  if (!raw || corked.has(raw)) return;
  raw.cork();
  if (corked.size === 0) process.nextTick(uncorkAll);
  corked.add(raw);
}

function uncorkAll() {
  for (const raw of corked) raw.uncork();
  corked.clear();
}

function isPromiseLike<V>(value: V | PromiseLike<V>): value is PromiseLike<V> {
  return typeof (value as PromiseLike<V>).then === 'function';
}
