/**
 * Fanout benchmark: how fast and how cheaply one change reaches every live dashboard.
 *
 *   npm run bench:fanout            (about a minute; writes bench/FANOUT.md)
 *   FANOUT_CASES=one npx tsx bench/fanout.ts   (only the one-scope pair, e.g. for a profile; writes nothing)
 *   FANOUT_SOCKETS=2000 FANOUT_ROUNDS=10 FANOUT_SIDES=app …   (a smaller run, or one side alone for a
 *   profile of the server: these write nothing either)
 *
 * This process runs the server: the real app on a fresh SQLite file, and beside it a bare
 * graphql-ws server whose trivial subscription yields a counter. A child process
 * (fanout-clients.ts) holds the clients, so the server's CPU and memory are measured alone.
 * Cases, each measured beside the same number of subscribers on the bare graphql-ws server (where a
 * round is one POST that publishes the next counter value), one side after the other:
 *   one:  20,000 subscribers of one dashboard, two per socket (10,000 sockets: a process may hold at
 *         most 20,000 files here, its sockets included, and both processes hold one end of each
 *         socket); each round records one event (one mutation).
 *   many: 1,000 subscribers on 1,000 distinct dashboards (one per program); each round records one
 *         event in every program (one recordEvents mutation of 1,000 events).
 * Latency is from the moment the mutation's answer reaches the client to each delivery, on the
 * client's clock. Rounds are spaced beyond the throttle interval, so no round waits on the
 * previous one's throttle. Memory per idle subscriber is the growth of the server's heap (and
 * RSS) once every subscriber holds its snapshot, after a full GC, divided by their number.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { GraphQLBoolean, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Repeater, SlidingBuffer } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Command, Report } from './fanout-clients.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ONE_SCOPE_SOCKETS = Number(process.env.FANOUT_SOCKETS ?? 10_000);
const PER_SOCKET = 2;
const ONE_SCOPE = ONE_SCOPE_SOCKETS * PER_SOCKET;
const DISTINCT = 1_000;
const ROUNDS = Number(process.env.FANOUT_ROUNDS ?? 20);
/** A run of another size, or of one side alone, is for iterating and profiling: it writes no report. */
const SIDES = process.env.FANOUT_SIDES?.split(',');
const FULL = !process.env.FANOUT_SOCKETS && !process.env.FANOUT_ROUNDS && !SIDES;
const THROTTLE_MS = 250;
const GAP_MS = THROTTLE_MS + 150;
const ADMIN = 'bench-admin-key';
const DASHBOARD_QUERY = `subscription ($programId: ID) {
  dashboardUpdated(programId: $programId) {
    programId resolvedCases avgResolutionTime medianResolutionTime p90ResolutionTime
    avgSatisfaction csat totalConflicts conflictRate
  }
}`;

interface CaseResult {
  name: string;
  subscribers: number;
  openMs: number;
  heapPerSubscriber: number;
  rssPerSubscriber: number;
  p50: number;
  p99: number;
  max: number;
  lastP50: number;
  lastMax: number;
  answerP50: number;
  computationsPerRound: number | null;
}

// ---------------------------------------------------------------- the servers

async function startApp(dir: string): Promise<{ app: App; url: string }> {
  const config = loadConfig({
    DATABASE_URL: path.join(dir, 'metrics.db'),
    ADMIN_API_KEY: ADMIN,
    PORT: '0',
    LIVE_THROTTLE_MS: String(THROTTLE_MS),
    LOG_LEVEL: 'warn', // a request log line per round would only add noise
    // The bench's own setup sends a thousand mutations with one key, and 20,000 subscribers share one key.
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_BURST: '1000000',
    // 20,000 subscriptions of one key, past the default cap of 10,000.
    LIVE_MAX_SUBSCRIPTIONS_PER_KEY: String(ONE_SCOPE),
  });
  const app = await buildApp(config);
  const { url } = await app.start();
  return { app, url };
}

async function gql(app: App, query: string, variables: Record<string, unknown> = {}) {
  const response = await app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** A bare graphql-ws server: `subscription { ticks }` yields the counter, POST /tick advances it. */
async function startBare(): Promise<{ server: Server; url: string; tickUrl: string; close(): Promise<void> }> {
  let tick = 0;
  const listeners = new Set<(n: number) => void>();
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLBoolean, resolve: () => true } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        ticks: {
          type: new GraphQLNonNull(GraphQLInt),
          subscribe: () =>
            new Repeater<number>(async (push, stop) => {
              void push(tick);
              listeners.add(push);
              await stop;
              listeners.delete(push);
            }, new SlidingBuffer(1)),
          resolve: (n: number) => n,
        },
      },
    }),
  });
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/tick') {
      request.resume();
      request.on('end', () => {
        tick++;
        for (const push of listeners) void push(tick);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { tick } }));
      });
      return;
    }
    response.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer({ schema }, wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `ws://127.0.0.1:${port}/graphql`,
    tickUrl: `http://127.0.0.1:${port}/tick`,
    async close() {
      await disposable.dispose();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------- the client process

const child = fork(new URL('./fanout-clients.ts', import.meta.url), [], { stdio: 'inherit' });
const inbox: Report[] = [];
let wake: (() => void) | null = null;
child.on('message', (report: Report) => {
  inbox.push(report);
  wake?.();
});

async function ask<T extends Report['type']>(command: Command, expect: T): Promise<Extract<Report, { type: T }>> {
  child.send(command);
  for (;;) {
    const report = inbox.shift();
    if (report) {
      if (report.type === 'failed') throw new Error(`client process: ${report.message}`);
      if (report.type !== expect) throw new Error(`expected ${expect}, got ${report.type}`);
      return report as Extract<Report, { type: T }>;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

function memory() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

type Open = Extract<Command, { type: 'open' }>;
type Request = Extract<Command, { type: 'rounds' }>['request'];

interface Side {
  name: string;
  open: Open;
  request: Request;
  /** The app's count of dashboard computations, to show how many one round costs. */
  computations?: () => number;
}

/**
 * FANOUT_PROFILE=DIR: a CPU profile of this (the server's) process during each side's rounds alone,
 * not its setup, written to DIR/<group>.cpuprofile.
 */
async function startProfile() {
  const dir = process.env.FANOUT_PROFILE;
  if (!dir) return null;
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<any>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(group: string) {
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      writeFileSync(path.join(dir, `${group}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each side in turn: opens its subscribers (weighing the server before and after), runs its rounds,
 * closes them. One side at a time, because both sides' sockets at once would pass the limit on open
 * files of the client process.
 */
async function runPair(sides: Side[]): Promise<CaseResult[]> {
  const opened: { ready: Extract<Report, { type: 'ready' }>; heap: number; rss: number }[] = [];
  const results = sides.map(() => ({
    latencies: [] as number[],
    lastPerRound: [] as number[],
    answerMs: [] as number[],
    computations: 0,
  }));
  for (const [i, side] of sides.entries()) {
    const before = memory();
    const ready = await ask(side.open, 'ready');
    await pause(500); // the last snapshots' sends and buffers settle before weighing
    const after = memory();
    opened.push({ ready, heap: after.heap - before.heap, rss: after.rss - before.rss });
    const profile = await startProfile();
    for (let round = 0; round < ROUNDS; round++) {
      const computedBefore = side.computations?.() ?? 0;
      const result = await ask(
        { type: 'rounds', group: side.open.group, rounds: 1, gapMs: GAP_MS, request: side.request },
        'result',
      );
      results[i].latencies.push(...result.latencies);
      results[i].lastPerRound.push(...result.lastPerRound);
      results[i].answerMs.push(...result.answerMs);
      results[i].computations += (side.computations?.() ?? 0) - computedBefore;
    }
    await profile?.stop(side.open.group);
    await ask({ type: 'close', group: side.open.group }, 'closed');
    await pause(1_000); // sockets closed on both ends before the next side opens
  }
  return sides.map((side, i) => {
    const { latencies, lastPerRound, answerMs } = results[i];
    const { ready, heap, rss } = opened[i];
    const row: CaseResult = {
      name: side.name,
      subscribers: ready.opened,
      openMs: ready.ms,
      heapPerSubscriber: heap / ready.opened,
      rssPerSubscriber: rss / ready.opened,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.reduce((a, b) => Math.max(a, b), 0),
      lastP50: percentile(lastPerRound, 50),
      lastMax: lastPerRound.reduce((a, b) => Math.max(a, b), 0),
      answerP50: percentile(answerMs, 50),
      computationsPerRound: side.computations ? results[i].computations / ROUNDS : null,
    };
    console.log(
      `${row.name}: p50 ${row.p50.toFixed(1)} ms, p99 ${row.p99.toFixed(1)} ms, last delivery max ${row.lastMax.toFixed(1)} ms, ` +
        `${(row.heapPerSubscriber / 1024).toFixed(1)} KB heap / ${(row.rssPerSubscriber / 1024).toFixed(1)} KB RSS per idle subscriber` +
        (row.computationsPerRound === null ? '' : `, ${row.computationsPerRound} computations per round`),
    );
    return row;
  });
}

// ---------------------------------------------------------------- the run

async function main() {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kpi-fanout-'));
  const { app, url } = await startApp(dir);
  const wsUrl = url.replace(/^http/, 'ws');
  const programs = Array.from({ length: DISTINCT + 1 }, (_, i) => `P${i}`);
  for (const id of programs)
    await gql(app, 'mutation ($id: ID!, $name: String!) { createProgram(input: { id: $id, name: $name }) { id } }', {
      id,
      name: id,
    });
  const { createApiKey } = await gql(
    app,
    'mutation { createApiKey(input: { name: "wall screens", role: VIEWER }) { key } }',
  );
  const viewer: string = createApiKey.key;
  // Some history, so every dashboard has numbers to compute.
  await gql(app, 'mutation ($events: [EventInput!]!) { recordEvents(events: $events) { accepted } }', {
    events: programs.flatMap((programId, i) => [
      { programId, caseId: `seed-${i}`, kind: 'RESOLUTION_TIME', value: 1 + (i % 9) },
      { programId, caseId: `seed-${i}`, kind: 'SATISFACTION', value: 1 + (i % 5) },
    ]),
  });
  const computed = () => app.services.feed.stats().computations;
  const bare = await startBare();
  const record = (events: { programId: string }[]) => ({
    url,
    key: ADMIN,
    body: JSON.stringify({
      query: 'mutation ($events: [EventInput!]!) { recordEvents(events: $events) { accepted } }',
      variables: { events: events.map((e, i) => ({ ...e, caseId: `c${i}`, kind: 'RESOLUTION_TIME', value: 2 })) },
    }),
  });
  const distinctPrograms = programs.slice(1);
  const bareSide = (group: string, subscribers: number, perSocket = 1): Side => ({
    name: `bare graphql-ws: ${subscribers} subscribers`,
    open: {
      type: 'open',
      group,
      url: bare.url,
      key: null,
      query: 'subscription { ticks }',
      programs: Array(subscribers / perSocket).fill(null),
      perSocket,
      read: 'ticks',
    },
    request: { url: bare.tickUrl, key: null, body: '{}' },
  });
  const only = process.env.FANOUT_CASES?.split(',');
  const rows: CaseResult[] = [];
  const run = async (id: string, sides: Side[]) => {
    if (only && !only.includes(id)) return;
    const chosen = sides.filter((side) => !SIDES || SIDES.includes(side.name.startsWith('app') ? 'app' : 'bare'));
    rows.push(...(await runPair(chosen)));
    await settleScopes(app);
  };

  await run('one', [
    {
      name: `app: ${ONE_SCOPE} subscribers, one scope (${PER_SOCKET} per socket)`,
      open: {
        type: 'open',
        group: 'app-one',
        url: wsUrl,
        key: viewer,
        query: DASHBOARD_QUERY,
        programs: Array(ONE_SCOPE_SOCKETS).fill('P0'),
        perSocket: PER_SOCKET,
        read: 'dashboard',
      },
      request: {
        url,
        key: ADMIN,
        body: JSON.stringify({
          query:
            'mutation { recordResolutionTime(input: { programId: "P0", caseId: "bench", days: 3 }) { duplicate } }',
        }),
      },
      computations: computed,
    },
    bareSide('bare-one', ONE_SCOPE, PER_SOCKET),
  ]);
  if (rows.length === 2) console.log(`one scope: app p99 / bare p99 = ${(rows[0].p99 / rows[1].p99).toFixed(2)}x`);
  await run('many', [
    {
      name: `app: ${DISTINCT} subscribers, ${DISTINCT} distinct scopes`,
      open: {
        type: 'open',
        group: 'app-many',
        url: wsUrl,
        key: viewer,
        query: DASHBOARD_QUERY,
        programs: distinctPrograms,
        perSocket: 1,
        read: 'dashboard',
      },
      request: record(distinctPrograms.map((programId) => ({ programId }))),
      computations: computed,
    },
    bareSide('bare-many', DISTINCT),
  ]);

  child.disconnect();
  await bare.close();
  await app.stop();
  rmSync(dir, { recursive: true, force: true });
  const seconds = (Date.now() - started) / 1000;
  if (rows.length === 4 && FULL) {
    writeReport(rows, seconds, [loadAtStart, os.loadavg()[0]]);
    console.log(`wrote bench/FANOUT.md (${seconds.toFixed(0)} s)`);
  }
}

/** Every live scope must be gone once its clients have closed: nothing is left behind. */
async function settleScopes(app: App) {
  for (let i = 0; i < 100 && app.services.feed.stats().scopes > 0; i++) await new Promise((r) => setTimeout(r, 50));
  const left = app.services.feed.stats();
  if (left.scopes > 0) throw new Error(`live scopes left behind after every client closed: ${JSON.stringify(left)}`);
}

function writeReport(rows: CaseResult[], seconds: number, load: number[]) {
  const ms = (v: number) => v.toFixed(1);
  const kb = (v: number) => (v / 1024).toFixed(1);
  const [appOne, bareOne, appMany, bareMany] = rows;
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const ratio = appOne.p99 / Math.max(bareOne.p99, 0.001);
  const text = `# Fanout benchmark

Written by \`npm run bench:fanout\` (bench/fanout.ts) on ${new Date().toISOString().slice(0, 10)}: Node ${process.version},
${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB; the run took ${seconds.toFixed(0)} s,
with a load average of ${load.map((l) => l.toFixed(1)).join(' at the start and ')} at the end (other work shares the machine:
absolute times move with it, and the two sides of a case run one after the other, so a change of load between them weighs on the ratio).
Server and clients in separate processes on this machine. The one-scope case holds ${PER_SOCKET} subscriptions per WebSocket (${ONE_SCOPE_SOCKETS} sockets),
on both servers alike: a process may hold at most 20,000 open files here (\`ulimit -Hn\`), sockets included; the distinct-scopes case one per socket.
${ROUNDS} rounds per side, spaced ${GAP_MS} ms apart (beyond the ${THROTTLE_MS} ms throttle). Latency: from the mutation's answer reaching the client
to each subscriber's delivery (per delivery: p50, p99, max; "last delivery": the slowest subscriber of each round).
Memory: growth of the server's heap+external (and RSS) per subscriber once all hold their snapshot, after a full GC
(RSS is the rougher figure: memory freed by an earlier case is not always returned to the system).

| case | subscribers | p50 ms | p99 ms | max ms | last delivery p50 / max ms | KPI computations per round | heap KB / idle subscriber | RSS KB / idle subscriber | mutation answer p50 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows
  .map(
    (r) =>
      `| ${r.name} | ${r.subscribers} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${ms(r.lastP50)} / ${ms(r.lastMax)} | ${r.computationsPerRound ?? '-'} | ${kb(r.heapPerSubscriber)} | ${kb(r.rssPerSubscriber)} | ${ms(r.answerP50)} |`,
  )
  .join('\n')}

## Against the targets
- ${ONE_SCOPE} subscribers of one scope, p99 under 1 s: ${ms(appOne.p99)} ms — ${verdict(appOne.p99 < 1000)}.
- Within 1.5x of bare graphql-ws (p99): ${ms(appOne.p99)} vs ${ms(bareOne.p99)} ms, ${ratio.toFixed(2)}x — ${verdict(ratio <= 1.5)}.
- Under 50 KB of server memory per idle subscriber: ${kb(appOne.heapPerSubscriber)} KB heap, ${kb(appOne.rssPerSubscriber)} KB RSS — ${verdict(appOne.rssPerSubscriber < 50 * 1024 && appOne.heapPerSubscriber < 50 * 1024)}.
- 1,000 distinct scopes: p99 ${ms(appMany.p99)} ms (bare: ${ms(bareMany.p99)} ms), ${appMany.computationsPerRound} computations per round.

The bare server does no work per change but serialize a counter; the app computes each touched scope's
dashboard once (from rollups), executes each distinct selection once on the shared result, serializes that
result once (src/realtime/shared-payloads.ts), and writes each subscription's message (its id around the one JSON)
straight to its socket, without graphql-ws' async iterator per subscription (src/realtime/direct-delivery.ts), the
messages of one socket in one write.
`;
  writeFileSync(new URL('./FANOUT.md', import.meta.url), text);
}

main().catch((error) => {
  console.error(error);
  child.kill();
  process.exit(1);
});
