/**
 * Real graphql-ws clients over real sockets for the app of a test. Every client made here is
 * disposed after the test that made it.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import type { TestApp } from './app.js';

/** One result as the server sent it. */
export type Result<R> = FormattedExecutionResult<R, unknown>;

export interface Closed {
  code: number;
  reason: string;
}

/** Results of one subscription, read in order. */
export interface LiveStream<R> {
  /** Every result received so far. */
  received: Result<R>[];
  /** The next unread result; fails when the stream ends or errs first, or after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Result<R>>;
  /** Reads until a result satisfies `test` and returns it. */
  until(test: (data: R) => boolean, timeoutMs?: number): Promise<R>;
  /** Settles when the server completes the stream (or it errs: then with the error). */
  ended: Promise<unknown>;
  unsubscribe(): void;
}

export interface LiveClient {
  client: Client;
  /** Settles when the socket closes, with its close code and reason. */
  closed: Promise<Closed>;
  /** Settles once the server acknowledged the connection. */
  connected: Promise<void>;
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables: V): LiveStream<R>;
}

/** Starts the app on a free port and returns its WebSocket URL. */
export async function listen(t: TestApp): Promise<string> {
  const { url } = await t.app.start();
  return url.replace(/^http/, 'ws');
}

/** A graphql-ws client that sends `key` as `connectionParams.authorization` (none when null). */
export function connect(url: string, key: string | null): LiveClient {
  let onClosed!: (closed: Closed) => void;
  let onConnected!: () => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  onTestFinished(() => client.dispose());
  return { client, closed, connected, subscribe: (document, variables) => stream(client, document, variables) };
}

function stream<R, V>(client: Client, document: TypedDocumentNode<R, V>, variables: V): LiveStream<R> {
  const received: Result<R>[] = [];
  let read = 0;
  let finished: { error?: unknown } | null = null;
  let wake: (() => void) | null = null;
  let onEnded!: (value: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (onEnded = resolve));
  const notify = () => {
    wake?.();
    wake = null;
  };

  const unsubscribe = client.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        received.push(result);
        notify();
      },
      error: (error) => {
        finished = { error };
        onEnded(error);
        notify();
      },
      complete: () => {
        finished ??= {};
        onEnded(undefined);
        notify();
      },
    },
  );

  async function next(timeoutMs = 5_000): Promise<Result<R>> {
    const deadline = Date.now() + timeoutMs;
    while (read >= received.length) {
      if (finished)
        throw new Error(`the stream ended before another result: ${JSON.stringify(finished.error ?? 'complete')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no result within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return received[read++];
  }

  async function until(test: (data: R) => boolean, timeoutMs = 5_000): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await next(Math.max(1, deadline - Date.now()));
      if (result.errors) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
      if (test(result.data as R)) return result.data as R;
    }
  }

  return { received, next, until, ended, unsubscribe };
}

/** A bare `ws` socket speaking graphql-transport-ws by hand, for faults a proper client never makes. */
export interface RawSocket {
  socket: WebSocket;
  closed: Promise<Closed>;
  /** Sends connection_init and waits for connection_ack. */
  init(key: string): Promise<void>;
  /** Sends a subscribe message and waits for its first `next`. */
  subscribeFirst(
    id: string,
    document: TypedDocumentNode<any, any>,
    variables: Record<string, unknown>,
  ): Promise<unknown>;
}

export async function rawSocket(url: string, options: { autoPong?: boolean } = {}): Promise<RawSocket> {
  const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong: options.autoPong ?? true });
  onTestFinished(() => socket.terminate());
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const message = (test: (m: any) => boolean) =>
    new Promise<any>((resolve) => {
      const listener = (data: WebSocket.RawData) => {
        const parsed = JSON.parse(String(data));
        if (!test(parsed)) return;
        socket.off('message', listener);
        resolve(parsed);
      };
      socket.on('message', listener);
    });
  return {
    socket,
    closed,
    async init(key) {
      const ack = message((m) => m.type === 'connection_ack');
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
      await ack;
    },
    async subscribeFirst(id, document, variables) {
      const first = message((m) => m.id === id && m.type === 'next');
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: print(document), variables } }));
      return (await first).payload;
    },
  };
}
