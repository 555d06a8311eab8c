/**
 * Soak: `npm run bench:soak [-- --minutes=10]` runs the service for a while under mixed load —
 * records (single and batches), dashboard queries, and 1,000 live subscribers of which some close
 * and new ones open every second — and samples the server's heap (after a full GC) and RSS. It
 * writes bench/SOAK.md and says whether both ended within 10% of where they were after warm-up.
 *
 * The server runs in a process of its own (this file, forked with --server), so its memory is
 * measured alone; the load runs here.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_KEY = 'soak-admin-key';
const PROGRAMS = ['SOAK-A', 'SOAK-B', 'SOAK-C', 'SOAK-D', 'SOAK-E'];
const SUBSCRIBERS = 1_000;
/** Subscribers closed, and as many opened, each second. */
const CHURN_PER_SECOND = 10;
const SAMPLE_MS = 10_000;

interface ServerStats {
  heapUsed: number;
  rss: number;
  eventsStored: number;
  sockets: number;
}

// ---------------------------------------------------------------- the server process
async function serve(databaseUrl: string) {
  const { buildApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  // Per-key rate limiting off: one key drives all the load here, where real clients would have many.
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    ADMIN_API_KEY: ADMIN_KEY,
    PORT: '0',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '0',
  });
  const app = await buildApp(config);
  const { url } = await app.start();
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'stats') {
      // After a full collection, so that the heap figure is what is live, not what awaits collection.
      (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      const stats: ServerStats = {
        heapUsed,
        rss,
        eventsStored: app.services.recorder.eventsStored,
        sockets: app.sockets.count(),
      };
      process.send!({ type: 'stats', stats });
    } else if (message.type === 'stop') {
      await app.stop();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', url });
}

// ---------------------------------------------------------------- the load
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function gql(url: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors?.length) throw new Error(JSON.stringify(body.errors).slice(0, 300));
}

const RECORD_ONE = `mutation ($input: RecordResolutionTimeInput!) { recordResolutionTime(input: $input) { duplicate } }`;
const RECORD_MANY = `mutation ($events: [EventInput!]!) { recordEvents(events: $events) { accepted } }`;
const DASHBOARD = `query ($programId: ID, $from: DateTime, $to: DateTime) {
  dashboard(programId: $programId, from: $from, to: $to) { resolvedCases avgResolutionTime p90ResolutionTime csat series { start resolvedCases } }
}`;
const LIVE = `subscription ($programId: ID) { dashboardUpdated(programId: $programId) { resolvedCases avgResolutionTime } }`;

async function main() {
  const minutesArg = process.argv.find((a) => a.startsWith('--minutes='));
  const minutes = Number(minutesArg?.split('=')[1] ?? process.env.SOAK_MINUTES ?? 10);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const durationMs = minutes * 60_000;
  const warmUpMs = Math.max(30_000, durationMs * 0.2);

  const dir = mkdtempSync(path.join(tmpdir(), 'kpi-soak-'));
  const server = fork(fileURLToPath(import.meta.url), ['--server', path.join(dir, 'soak.db')], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: any) => {
        if (m?.type !== type) return;
        server.off('message', onMessage);
        resolve(m);
      };
      server.on('message', onMessage);
      server.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
  const { url } = await next<{ url: string }>('ready');
  const stats = async () => {
    server.send({ type: 'stats' });
    return (await next<{ stats: ServerStats }>('stats')).stats;
  };
  for (const id of PROGRAMS) {
    await gql(url, `mutation ($input: CreateProgramInput!) { createProgram(input: $input) { id } }`, {
      input: { id, name: id, timezone: 'UTC' },
    });
  }

  const counts = { records: 0, batches: 0, dashboards: 0, opened: 0, closed: 0, pushes: 0, errors: 0 };
  let firstError: string | null = null;
  const failed = (error: unknown) => {
    counts.errors++;
    firstError ??= error instanceof Error ? error.message : String(error);
  };
  let running = true;
  const started = Date.now();
  const DAY = 86_400_000;

  // Records: 50 single mutations and one batch of 100 a second, spread over the last 90 days.
  const writer = (async () => {
    for (let n = 0; running; n++) {
      const tick = Date.now();
      const singles = Array.from({ length: 5 }, (_, i) => {
        const k = n * 5 + i;
        const input = {
          programId: PROGRAMS[k % PROGRAMS.length],
          caseId: `s${k}`,
          idempotencyKey: `s${k}`,
          days: 0.5 + (k % 50) / 5,
          occurredAt: new Date(tick - (k % 90) * DAY).toISOString(),
        };
        return gql(url, RECORD_ONE, { input }).then(() => void counts.records++, failed);
      });
      if (n % 10 === 0) {
        const events = Array.from({ length: 100 }, (_, i) => ({
          programId: PROGRAMS[i % PROGRAMS.length],
          kind: i % 3 === 0 ? 'SATISFACTION' : 'RESOLUTION_TIME',
          caseId: `b${n}-${i}`,
          idempotencyKey: `b${n}-${i}`,
          value: i % 3 === 0 ? 1 + (i % 5) : 1 + (i % 20),
          occurredAt: new Date(tick - (i % 90) * DAY).toISOString(),
        }));
        singles.push(gql(url, RECORD_MANY, { events }).then(() => void counts.batches++, failed));
      }
      await Promise.all(singles);
      await sleep(Math.max(0, 100 - (Date.now() - tick)));
    }
  })();

  // Dashboards: five a second, over random programs (or all) and ranges.
  const reader = (async () => {
    for (let n = 0; running; n++) {
      const tick = Date.now();
      const days = 7 + (n % 80);
      await gql(url, DASHBOARD, {
        programId: n % 6 === 5 ? null : PROGRAMS[n % 5],
        from: new Date(tick - days * DAY).toISOString(),
        to: new Date(tick).toISOString(),
      }).then(() => void counts.dashboards++, failed);
      await sleep(Math.max(0, 200 - (Date.now() - tick)));
    }
  })();

  // Live subscribers: 1,000 sockets, CHURN_PER_SECOND of them replaced every second.
  const live = new Set<Client>();
  const wsUrl = url.replace(/^http/, 'ws');
  let opening = 0;
  const open = (n: number) => {
    opening++;
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: failed,
      connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    live.add(client);
    counts.opened++;
    let first = true;
    client.subscribe(
      { query: LIVE, variables: { programId: n % 6 === 5 ? null : PROGRAMS[n % 5] } },
      {
        next: () => {
          counts.pushes++;
          if (first) opening--;
          first = false;
        },
        error: (error) => {
          if (running && live.has(client)) failed(error);
        },
        complete: () => {},
      },
    );
  };
  const close = (client: Client) => {
    live.delete(client);
    counts.closed++;
    // A socket still connecting rejects its disposal; it is gone either way.
    Promise.resolve(client.dispose()).catch(() => {});
  };
  for (let i = 0; i < SUBSCRIBERS; i += 100) {
    for (let j = i; j < i + 100; j++) open(j);
    while (opening > 0) await sleep(20);
  }
  const churner = (async () => {
    for (let n = SUBSCRIBERS; running; n += CHURN_PER_SECOND) {
      await sleep(1_000);
      const clients = [...live];
      for (let i = 0; i < CHURN_PER_SECOND; i++) close(clients[Math.floor(Math.random() * clients.length)]);
      for (let i = 0; i < CHURN_PER_SECOND; i++) open(n + i);
    }
  })();

  const samples: { at: number; stats: ServerStats; counts: typeof counts }[] = [];
  console.log(
    `soak: ${minutes} min (warm-up ${(warmUpMs / 60_000).toFixed(1)} min), ${SUBSCRIBERS} subscribers, churn ${CHURN_PER_SECOND}/s`,
  );
  while (Date.now() - started < durationMs) {
    await sleep(Math.min(SAMPLE_MS, durationMs - (Date.now() - started)));
    const sample = { at: Date.now() - started, stats: await stats(), counts: { ...counts } };
    samples.push(sample);
    console.log(
      `${(sample.at / 60_000).toFixed(1)} min: heap ${mb(sample.stats.heapUsed)} MB, RSS ${mb(sample.stats.rss)} MB, ` +
        `sockets ${sample.stats.sockets}, events ${sample.stats.eventsStored}, dashboards ${counts.dashboards}, errors ${counts.errors}`,
    );
  }
  running = false;
  await Promise.all([writer, reader, churner]);
  for (const client of [...live]) close(client);
  server.send({ type: 'stop' });
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });

  writeReport({ minutes, warmUpMs, samples, firstError });
}

function writeReport({
  minutes,
  warmUpMs,
  samples,
  firstError,
}: {
  minutes: number;
  warmUpMs: number;
  samples: { at: number; stats: ServerStats; counts: Record<string, number> }[];
  firstError: string | null;
}) {
  const warm = samples.find((s) => s.at >= warmUpMs) ?? samples[0];
  const last = samples[samples.length - 1];
  const change = (key: 'heapUsed' | 'rss') => (last.stats[key] - warm.stats[key]) / warm.stats[key];
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
  const flat = Math.abs(change('heapUsed')) <= 0.1 && Math.abs(change('rss')) <= 0.1;
  const seconds = last.at / 1000;
  const c = last.counts;
  const rate = (n: number) => (n / seconds).toFixed(1);
  const afterWarmUp = samples.filter((s) => s.at >= warm.at).map((s) => s.stats.sockets);
  const every = Math.max(1, Math.round(60_000 / SAMPLE_MS / 2)); // about two rows a minute
  const rows = samples
    .filter((s, i) => i % every === every - 1 || s === warm || s === last)
    .map(
      (s) =>
        `| ${(s.at / 60_000).toFixed(1)} | ${mb(s.stats.heapUsed)} | ${mb(s.stats.rss)} | ${s.stats.sockets} | ${s.stats.eventsStored.toLocaleString('en-US')} | ${s.counts.dashboards.toLocaleString('en-US')} | ${s.counts.errors} |${s === warm ? ' ← after warm-up' : ''}`,
    );
  const report = `# Soak

\`npm run bench:soak -- --minutes=${minutes}\` (default 10), ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${process.platform}.
The server runs in its own process on a fresh SQLite file; heap is measured after a full GC.

Load aimed at: ${SUBSCRIBERS} live dashboard subscribers over WebSocket (${CHURN_PER_SECOND} closed and ${CHURN_PER_SECOND} opened every
second), 50 single records/s plus one batch of 100 events/s, 5 dashboard queries/s (each writer waits for its answers,
so a busy machine gets less). Done in ${seconds.toFixed(0)} s: ${c.records.toLocaleString('en-US')} single records (${rate(c.records)}/s),
${c.batches.toLocaleString('en-US')} batches (${rate(c.batches)}/s), ${last.stats.eventsStored.toLocaleString('en-US')} events stored (${rate(last.stats.eventsStored)}/s),
${c.dashboards.toLocaleString('en-US')} dashboards (${rate(c.dashboards)}/s), ${c.opened.toLocaleString('en-US')} sockets opened in all (${Math.min(...afterWarmUp)} to
${Math.max(...afterWarmUp)} open after warm-up), ${c.pushes.toLocaleString('en-US')} live pushes received; errors: ${c.errors}${firstError ? ` (first: ${firstError})` : ''}.

| minute | heap MB | RSS MB | sockets | events stored | dashboards | errors |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

After warm-up (${(warm.at / 60_000).toFixed(1)} min) → end (${(last.at / 60_000).toFixed(1)} min): heap ${mb(warm.stats.heapUsed)} → ${mb(last.stats.heapUsed)} MB (${pct(change('heapUsed'))}),
RSS ${mb(warm.stats.rss)} → ${mb(last.stats.rss)} MB (${pct(change('rss'))}).
**${flat ? 'Flat: both ended within 10% of where they were after warm-up.' : 'NOT flat: memory moved by more than 10% after warm-up.'}**
`;
  writeFileSync(path.join(here, 'SOAK.md'), report);
  console.log(report);
}

if (process.argv[2] === '--server') await serve(process.argv[3]);
else await main();
