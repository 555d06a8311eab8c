/**
 * `npm run bench:attacks`: a legitimate client's query latency (p50/p95 of `{ programs { id } }`,
 * one at a time) against a server process, alone and during each attack of the security pass:
 * exponential fragment fan-out, 300 slow bodies, and a subscription flood. Prints one line per
 * phase and the ratio to the quiet baseline; the bar is p95 under 100 ms. The server runs with the
 * per-key rate limit off (bench/server.ts), so the attackers send as fast as the server answers.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { BENCH_ADMIN_KEY } from './dataset.js';
import { freshPath, gql, startServer } from './harness.js';

const SAMPLES = 200;

async function latency(url: string): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    await gql(url, BENCH_ADMIN_KEY, '{ programs { id } }');
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(SAMPLES * 0.5)], p95: times[Math.floor(SAMPLES * 0.95)] };
}

function fanOutDocument(n: number, levels = 20): string {
  let document = `query Q${n} { ...F0 }\n`;
  for (let i = 0; i < levels; i++) document += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }\n`;
  return `${document}fragment F${levels} on Query { programs { id } }\n`;
}

/** Attackers that keep sending fan-out documents (a new operation name each, so none is cached). */
function fanOutAttack(url: string, attackers = 4) {
  let running = true;
  let sent = 0;
  const loops = Array.from({ length: attackers }, async () => {
    while (running) {
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_KEY}` },
        body: JSON.stringify({ query: fanOutDocument(sent++) }),
      }).then((r) => r.text());
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
    return `${sent} fan-out documents sent`;
  };
}

/** 300 unauthenticated sockets, each declaring a 1,000-byte body and sending 9 bytes of it. */
async function slowBodyAttack(url: string, sockets = 300) {
  const { port, hostname } = new URL(url);
  const open: Socket[] = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = tcpConnect(Number(port), hostname, () => {
            socket.write(
              'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
            );
            resolve(socket);
          });
          socket.on('error', () => {});
        }),
    ),
  );
  return async () => {
    for (const socket of open) socket.destroy();
    return `${sockets} slow bodies open`;
  };
}

/** 50 sockets, each opening as many dashboard subscriptions as the server takes (up to 100 each). */
async function subscriptionFlood(url: string, sockets = 50, each = 100) {
  const clients = Array.from({ length: sockets }, () =>
    createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${BENCH_ADMIN_KEY}` },
      retryAttempts: 0,
    }),
  );
  let live = 0;
  let refused = 0;
  const stops: (() => void)[] = [];
  for (const client of clients)
    for (let i = 0; i < each; i++)
      stops.push(
        client.subscribe(
          { query: `subscription { dashboardUpdated(programId: "P${i % 10}") { resolvedCases } }` },
          { next: () => void live++, error: () => void refused++, complete: () => {} },
        ),
      );
  return async () => {
    for (const stop of stops) stop();
    await Promise.all(clients.map((c) => c.dispose()));
    return `${stops.length} subscriptions asked, ${live} pushes received, ${refused} refused`;
  };
}

const server = await startServer('app', freshPath('attacks.db'));
try {
  for (let i = 0; i < 10; i++)
    await gql(server.url, BENCH_ADMIN_KEY, `mutation { createProgram(input: { id: "P${i}", name: "P${i}" }) { id } }`);
  await latency(server.url); // warm-up
  const quiet = await latency(server.url);
  const line = (name: string, r: { p50: number; p95: number }, note = '') =>
    console.log(
      `${name.padEnd(22)} p50 ${r.p50.toFixed(1).padStart(6)} ms  p95 ${r.p95.toFixed(1).padStart(6)} ms  (${(r.p95 / quiet.p95).toFixed(2)}x quiet p95) ${note}`,
    );
  line('quiet', quiet);
  for (const [name, attack] of [
    ['fan-out, 1 attacker', () => Promise.resolve(fanOutAttack(server.url, 1))],
    ['fan-out, 4 attackers', () => Promise.resolve(fanOutAttack(server.url, 4))],
    ['300 slow bodies', () => slowBodyAttack(server.url)],
    ['subscription flood', () => subscriptionFlood(server.url)],
  ] as const) {
    const stop = await attack();
    const measured = await latency(server.url);
    line(name, measured, await stop());
  }
} finally {
  await server.stop();
}
