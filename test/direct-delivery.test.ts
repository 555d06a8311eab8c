/**
 * The direct path of live pushes over WebSocket (src/realtime/direct-delivery.ts), alone: what goes
 * straight to the socket, what goes through graphql-ws' iterator instead, and that a subscriber
 * receives the states in order either way. The whole path through real sockets is in
 * live.test.ts and live-reconnect.test.ts.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { deliverDirect } from '../src/realtime/direct-delivery.js';
import { attachSink, type Sink, type SinkSource } from '../src/realtime/shared-events.js';

/** A stream that hands its events to one sink, and a socket that keeps what it is sent. */
function setup(execute: (event: number) => ExecutionResult | Promise<ExecutionResult>) {
  let sink: Sink<number> | null = null;
  let attached = 0;
  let detached = 0;
  const source: SinkSource<number> = {
    [attachSink](s) {
      attached++;
      sink = s;
      return () => {
        detached++;
        sink = null;
      };
    },
  };
  const sent: unknown[] = [];
  const socket = { send: (data: string) => sent.push(JSON.parse(data)) } as unknown as WebSocket;
  const stream = deliverDirect(source, { socket, id: 'sub-1' }, execute);
  return {
    stream,
    sent,
    push: (event: number) => sink?.push(event),
    end: () => sink?.end(),
    counts: () => ({ attached, detached }),
  };
}

const data = (n: number): ExecutionResult => ({ data: { n } });
const failed = (n: number): ExecutionResult => ({ data: { n: null }, errors: [new GraphQLError(`no ${n}`)] });
/** graphql-ws' own `next` message for a result (src: its stringifyMessage). */
const message = (result: ExecutionResult) => ({ id: 'sub-1', type: 'next', payload: result });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('direct delivery of live pushes', () => {
  it('joins when graphql-ws starts iterating, and writes plain results to the socket at once, in order', async () => {
    const t = setup(data);
    expect(t.counts().attached).toBe(0);
    const first = t.stream.next();
    expect(t.counts().attached).toBe(1);
    for (const n of [1, 2, 3]) t.push(n);
    expect(t.sent).toEqual([1, 2, 3].map((n) => message(data(n))));
    // Nothing came through the iterator: it stands for the subscription until it ends.
    t.end();
    expect(await first).toEqual({ done: true, value: undefined });
    expect(t.counts().detached).toBe(1);
  });

  it('yields a result with errors through the iterator, and holds later ones until graphql-ws has sent it', async () => {
    const t = setup((n) => (n === 2 ? failed(n) : data(n)));
    const taken = t.stream.next();
    t.push(1);
    t.push(2);
    expect(await taken).toEqual({ done: false, value: failed(2) });
    // graphql-ws is still sending #2: #3 and #4 must not overtake it; #4 replaces #3, not yet taken.
    t.push(3);
    t.push(4);
    expect(t.sent).toEqual([message(data(1))]);
    expect(await t.stream.next()).toEqual({ done: false, value: data(4) });
    // Once graphql-ws asks again, nothing is in flight on its path: the direct path resumes.
    const waiting = t.stream.next();
    t.push(5);
    expect(t.sent).toEqual([message(data(1)), message(data(5))]);
    await t.stream.return?.();
    expect(await waiting).toEqual({ done: true, value: undefined });
  });

  it('never delivers an earlier state after a later one when executions settle out of order', async () => {
    const releases: (() => void)[] = [];
    const t = setup((n) => new Promise((resolve) => releases.push(() => resolve(data(n)))));
    void t.stream.next();
    t.push(1);
    t.push(2);
    releases[1]();
    await tick();
    releases[0]();
    await tick();
    expect(t.sent).toEqual([message(data(2))]);
    t.push(3);
    releases[2]();
    await tick();
    expect(t.sent).toEqual([message(data(2)), message(data(3))]);
  });

  it('detaches at once on return (a complete, a closed socket, a revoked key): nothing more is written', async () => {
    const t = setup(data);
    const pending = t.stream.next();
    t.push(1);
    await t.stream.return?.();
    expect(t.counts().detached).toBe(1);
    t.push(2);
    expect(t.sent).toEqual([message(data(1))]);
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await t.stream.next()).toEqual({ done: true, value: undefined });
  });

  it('ends an execution that throws through the iterator, as graphql-ws reports a failed stream, and leaves the scope', async () => {
    const t = setup(() => {
      throw new Error('broken');
    });
    const taken = t.stream.next();
    t.push(1);
    await expect(taken).rejects.toThrow('broken');
    expect(t.sent).toEqual([]);
    // graphql-ws calls no return() after a failure: the scope is left all the same.
    expect(t.counts().detached).toBe(1);
  });
});
