/**
 * The client side of bench/fanout.ts, in its own process so that the server's CPU and memory are
 * measured alone. It opens graphql-ws clients (one socket per subscriber, as browser tabs would),
 * sends the mutation of each round itself over HTTP, and times each delivery from the moment the
 * mutation's answer arrived, all on this process's clock.
 */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export type Command =
  | {
      type: 'open';
      group: string;
      url: string;
      key: string | null;
      query: string;
      programs: (string | null)[];
      /** Subscriptions per socket (one per entry of `programs` each): a page with several dashboards. */
      perSocket: number;
      read: 'dashboard' | 'ticks';
    }
  | {
      type: 'rounds';
      group: string;
      rounds: number;
      gapMs: number;
      request: { url: string; key: string | null; body: string };
    }
  | { type: 'close'; group: string };

export type Report =
  | { type: 'ready'; opened: number; ms: number }
  | { type: 'result'; latencies: number[]; lastPerRound: number[]; answerMs: number[] }
  | { type: 'closed' }
  | { type: 'failed'; message: string };

interface Subscriber {
  client: Client;
  value: number;
  /** Resolves once the subscriber has seen a value of at least `wanted`. */
  waiter: { wanted: number; resolve: (at: number) => void } | null;
}

/** Groups of subscribers, each opened, driven and closed on its own. */
const groups = new Map<string, Subscriber[]>();

const send = (report: Report) => process.send!(report);

function open(command: Extract<Command, { type: 'open' }>): Promise<void> {
  const read =
    command.read === 'dashboard' ? (data: any) => data.dashboardUpdated.resolvedCases : (data: any) => data.ticks;
  const subscribers: Subscriber[] = [];
  groups.set(command.group, subscribers);
  const started = performance.now();
  const openSocket = (program: string | null) => {
    let client!: Client;
    const one = (index: number) =>
      new Promise<Subscriber>((resolve, reject) => {
        if (index === 0)
          client = createClient({
            url: command.url,
            webSocketImpl: WebSocket,
            lazy: false,
            retryAttempts: 0,
            onNonLazyError: reject,
            connectionParams: command.key ? { authorization: `Bearer ${command.key}` } : {},
          });
        const subscriber: Subscriber = { client, value: -1, waiter: null };
        let first = true;
        client.subscribe(
          { query: command.query, variables: program === null ? {} : { programId: program } },
          {
            next: (result) => {
              if (result.errors) return reject(new Error(JSON.stringify(result.errors)));
              subscriber.value = read(result.data);
              const waiter = subscriber.waiter;
              if (waiter && subscriber.value >= waiter.wanted) {
                subscriber.waiter = null;
                waiter.resolve(performance.now());
              }
              if (first) {
                first = false;
                resolve(subscriber);
              }
            },
            error: reject,
            complete: () => {},
          },
        );
      });
    return Promise.all(Array.from({ length: command.perSocket }, (_, i) => one(i)));
  };
  // In waves, so the server's accept queue never overflows.
  return (async () => {
    for (let i = 0; i < command.programs.length; i += 250) {
      subscribers.push(...(await Promise.all(command.programs.slice(i, i + 250).map(openSocket))).flat());
    }
    send({ type: 'ready', opened: subscribers.length, ms: performance.now() - started });
  })();
}

async function rounds(command: Extract<Command, { type: 'rounds' }>) {
  const subscribers = groups.get(command.group)!;
  const latencies: number[] = [];
  const lastPerRound: number[] = [];
  const answerMs: number[] = [];
  for (let round = 0; round < command.rounds; round++) {
    const arrivals = subscribers.map(
      (s) => new Promise<number>((resolve) => (s.waiter = { wanted: s.value + 1, resolve })),
    );
    const sent = performance.now();
    const response = await fetch(command.request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(command.request.key ? { authorization: `Bearer ${command.request.key}` } : {}),
      },
      body: command.request.body,
    });
    const body = (await response.json()) as { errors?: unknown };
    const answered = performance.now();
    if (body.errors) throw new Error(`the mutation failed: ${JSON.stringify(body.errors)}`);
    answerMs.push(answered - sent);
    let timer: NodeJS.Timeout | undefined;
    const times = await Promise.race([
      Promise.all(arrivals),
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(
            () => reject(new Error(`round ${round}: not every subscriber received an update within 30 s`)),
            30_000,
          )),
      ),
    ]);
    clearTimeout(timer);
    // A push may overtake the mutation's answer on the wire: it then counts as 0.
    const round_ = times.map((t) => Math.max(0, t - answered));
    latencies.push(...round_);
    lastPerRound.push(Math.max(...round_));
    await new Promise((resolve) => setTimeout(resolve, command.gapMs));
  }
  send({ type: 'result', latencies, lastPerRound, answerMs });
}

async function close(group: string) {
  await Promise.all([...new Set(groups.get(group)!.map((s) => s.client))].map((client) => client.dispose()));
  groups.delete(group);
  send({ type: 'closed' });
}

process.on('message', (command: Command) => {
  const work =
    command.type === 'open' ? open(command) : command.type === 'rounds' ? rounds(command) : close(command.group);
  work.catch((error) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }));
});
process.on('disconnect', () => process.exit(0));
