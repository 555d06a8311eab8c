/**
 * A subscription over yoga's server-sent events through app.fetch: no socket, the same schema,
 * context and authorization as every other operation. Closed after the test that opened it.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { onTestFinished } from 'vitest';
import type { App } from '../../src/app.js';
import type { GraphQLErrorJson } from './app.js';

export interface SseResult<R> {
  data?: R | null;
  errors?: GraphQLErrorJson[];
}

export interface SseStream<R> {
  /** Every result received so far, in order. */
  received: SseResult<R>[];
  /** Resolves with the first result (already received or still to come) that satisfies `test`. */
  until(test: (result: SseResult<R>) => boolean, timeoutMs?: number): Promise<SseResult<R>>;
  close(): void;
}

export async function subscribeSse<R, V>(
  app: App,
  document: TypedDocumentNode<R, V>,
  variables: V,
  key: string,
): Promise<SseStream<R>> {
  const abort = new AbortController();
  const response = await app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: print(document), variables }),
    signal: abort.signal,
  });
  if (!response.body) throw new Error(`no event stream (HTTP ${response.status})`);
  const received: SseResult<R>[] = [];
  const waiters = new Set<() => void>();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (data) received.push(JSON.parse(data));
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted on close
    }
  })();
  const close = () => abort.abort();
  onTestFinished(close);
  return {
    received,
    close,
    until(test, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(test);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${timeoutMs} ms; received ${JSON.stringify(received)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
