/**
 * `npm run bench` (or `npm run bench -- --quick` for a CI-sized check): measures the service on
 * this machine, each figure beside a baseline measured in the same run, and writes bench/REPORT.md.
 * Servers and the load generator run in separate processes; set BENCH_PROFILE=1 to write
 * `node --cpu-prof` profiles of the servers to bench/data/profiles/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { DAY } from '../src/kpis/time.js';
import { addEvents, createDatabase, INSERT_EVENT, PROGRAMS } from './dataset.js';
import {
  BATCH,
  BATCH_CLIENTS,
  batchJob,
  combine,
  CONCURRENCY,
  createKey,
  dashboardsWhileIngesting,
  freshPath,
  END,
  fmt,
  load,
  mb,
  ms,
  COMPRESSION_SECTION,
  DRILLDOWN_SECTION,
  IMPACT_SECTION,
  SERIES_FLOOR_SECTION,
  IMPORT_SECTION,
  STARTUP_SECTION,
  sectionOf,
  SPAN,
  startServer,
  timed,
  YEAR,
  yearDashboard,
} from './harness.js';
import { batchEvents, type BatchOrder } from './batch-events.js';
import type { LoadJob, LoadResult } from './load.js';
import { BREAKDOWNS_SECTION } from './dimensions.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, 'data');
const quick = process.argv.includes('--quick');
/**
 * For tuning, printed and not written to the report: `--writes` runs only the two write
 * measurements, `--single`, `--batch` or `--dashboards` only one.
 */
const only = ['--writes', '--single', '--batch', '--dashboards'].find((flag) => process.argv.includes(flag)) ?? null;

const SETTINGS = quick
  ? {
      loadMs: 2_000,
      warmMs: 500,
      sizes: [10_000, 100_000],
      dashboards: 15,
      naiveRuns: 3,
      rawRows: 50_000,
      ingestMs: 2_000,
    }
  : {
      loadMs: 10_000,
      warmMs: 2_000,
      sizes: [100_000, 1_000_000, 10_000_000],
      dashboards: 60,
      naiveRuns: 5,
      rawRows: 500_000,
      ingestMs: 8_000,
    };

// ---------------------------------------------------------------- measurements

/**
 * The measured load is cut into ROUNDS that alternate between the service and its baseline, so a
 * spell of load from elsewhere on this shared machine falls on both rather than on one of them.
 */
const ROUNDS = quick ? 2 : 4;

async function singleEvents() {
  const yoga = await startServer('yoga');
  const yogaJob: LoadJob = {
    url: yoga.url,
    authorization: null,
    body: 'hello',
    programIds: [],
    concurrency: CONCURRENCY,
    durationMs: SETTINGS.warmMs,
  };
  const file = freshPath('single.db');
  await createDatabase(file);
  const app = await startServer('app', file);
  const key = await createKey(app.url, 'INTEGRATION');
  const job: LoadJob = {
    url: app.url,
    authorization: `Bearer ${key}`,
    body: 'single',
    programIds: PROGRAMS.map((p) => p.id),
    concurrency: CONCURRENCY,
    durationMs: SETTINGS.warmMs,
  };
  await load(yogaJob);
  await load(job);
  const bare: LoadResult[] = [];
  const service: LoadResult[] = [];
  const before = await app.stats();
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await load({ ...yogaJob, durationMs: SETTINGS.loadMs / ROUNDS }));
    service.push(await load({ ...job, durationMs: SETTINGS.loadMs / ROUNDS }));
  }
  const after = await app.stats();
  await Promise.all([yoga.stop(), app.stop()]);
  return { bare: combine(bare), service: combine(service), commits: after.commits - before.commits };
}

async function batches(order: BatchOrder) {
  const file = freshPath(`batch-${order}.db`);
  await createDatabase(file);
  const app = await startServer('app', file);
  const key = await createKey(app.url, 'INTEGRATION');
  const job = batchJob(app.url, key, SETTINGS.warmMs, order);
  await load(job);

  // The same rows, the same table and indexes (made by the migrations), durable commits of BATCH rows.
  const rawFile = freshPath(`raw-${order}.db`);
  await createDatabase(rawFile);
  const sqlite = new SQLite(rawFile);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  const insert = sqlite.prepare(INSERT_EVENT);
  // The rows the load generator sends (batchEvents) in the same order; live ones a millisecond apart.
  const start = Date.now() - SETTINGS.rawRows;
  const rows = Array.from({ length: SETTINGS.rawRows / BATCH }, (_, n) =>
    batchEvents(
      n,
      BATCH,
      PROGRAMS.map((p) => p.id),
      order === 'live' ? start + (n + 1) * BATCH : Date.now(),
      'raw',
      order,
    ),
  )
    .flat()
    .map((e, i) => ({
      id: i + 1,
      program_id: e.programId,
      kind: e.kind,
      case_id: e.caseId,
      value: e.value,
      occurred_at: Date.parse(e.occurredAt),
    }));
  const write = sqlite.transaction((part: typeof rows) => {
    for (const e of part) insert.run(e.id, e.program_id, e.kind, e.case_id, e.value, e.occurred_at, e.occurred_at);
  });

  const rounds: LoadResult[] = [];
  let rawSeconds = 0;
  const perRound = Math.ceil(rows.length / ROUNDS / BATCH) * BATCH;
  for (let round = 0; round < ROUNDS; round++) {
    rounds.push(await load({ ...job, durationMs: SETTINGS.loadMs / ROUNDS }));
    const t0 = performance.now();
    for (let i = round * perRound; i < Math.min(rows.length, (round + 1) * perRound); i += BATCH)
      write(rows.slice(i, i + BATCH));
    rawSeconds += (performance.now() - t0) / 1000;
  }
  await app.stop();
  sqlite.close();
  const service = combine(rounds);
  return {
    service,
    serviceEvents: ((service.requests - service.failures) * BATCH) / service.seconds,
    raw: rows.length / rawSeconds,
  };
}

/** The plain way: GROUP BY day over the raw events (counts and sums only; percentiles would cost more). */
function naiveQueries(file: string) {
  const sqlite = new SQLite(file, { readonly: true });
  const kolkata = PROGRAMS.find((p) => p.timezone === 'Asia/Kolkata')!;
  const offset = 5.5 * 3_600_000; // Asia/Kolkata has no DST, so its days are fixed-offset
  const all = sqlite.prepare(
    `select (occurred_at - occurred_at % ${DAY}) as day, kind, count(*) as n, sum(value) as s from events
     where occurred_at >= ? and occurred_at < ? and retracted_at is null group by day, kind`,
  );
  const one = sqlite.prepare(
    `select (occurred_at + ${offset}) / ${DAY} as day, kind, count(*) as n, sum(value) as s from events
     where program_id = ? and occurred_at >= ? and occurred_at < ? and retracted_at is null group by day, kind`,
  );
  return {
    one: () => one.all(kolkata.id, YEAR.from, YEAR.to),
    all: () => all.all(YEAR.from, YEAR.to),
    close: () => sqlite.close(),
  };
}

async function dashboards() {
  const file = freshPath('dashboards.db');
  await createDatabase(file);
  const kolkata = PROGRAMS.find((p) => p.timezone === 'Asia/Kolkata')!;
  const rows = [];
  let stored = 0;
  let rss = { rss: 0, maxRss: 0 };
  let rssWriting = { rss: 0, maxRss: 0 };
  let ingesting = { p50: NaN, p95: NaN, count: 0, eventsPerSecond: NaN, failures: 0 };
  let inProcess = { ...ingesting, rss: 0 };
  for (const [i, size] of SETTINGS.sizes.entries()) {
    const t0 = performance.now();
    await addEvents(file, size - stored, END - SPAN, END, 1000 + i);
    const loadSeconds = (performance.now() - t0) / 1000;
    stored = size;

    const app = await startServer('app', file);
    const key = await createKey(app.url, 'VIEWER');
    const ask = (programId: string | null) => yearDashboard(app.url, key, programId);
    await timed(5, ask(kolkata.id));
    await timed(5, ask(null));
    const one = await timed(SETTINGS.dashboards, ask(kolkata.id));
    const all = await timed(SETTINGS.dashboards, ask(null));
    const check = await ask(null)();
    if (i === SETTINGS.sizes.length - 1) {
      rss = await app.stats();
      // A server also takes events: its writer thread starts with the first batch, and holds memory of its own.
      ingesting = await dashboardsWhileIngesting(app, ask(kolkata.id), SETTINGS.ingestMs);
      rssWriting = await app.stats();
    }
    await app.stop();
    if (i === SETTINGS.sizes.length - 1) inProcess = await ingestingInProcess(file, kolkata.id);

    const naive = naiveQueries(file);
    naive.one();
    const naiveOne = await timed(SETTINGS.naiveRuns, naive.one);
    const naiveAll = await timed(SETTINGS.naiveRuns, naive.all);
    naive.close();
    rows.push({
      size,
      loadSeconds,
      one,
      all,
      naiveOne,
      naiveAll,
      points: check.dashboard.series.length,
      resolved: check.dashboard.resolvedCases,
    });
  }
  return { rows, rss, rssWriting, ingesting, inProcess, programs: PROGRAMS.length, kolkata: kolkata.id };
}

/** The same while-ingesting measurement on a server whose SQLite commits all run in its own thread. */
async function ingestingInProcess(file: string, programId: string) {
  const app = await startServer('app', file, { SQLITE_WRITER_THREAD: 'off' });
  const key = await createKey(app.url, 'VIEWER');
  const ask = yearDashboard(app.url, key, programId);
  await timed(5, ask);
  const ingesting = await dashboardsWhileIngesting(app, ask, SETTINGS.ingestMs);
  const { rss } = await app.stats();
  await app.stop();
  return { ...ingesting, rss };
}

// ---------------------------------------------------------------- report

const verdict = (ok: boolean) => (ok ? '**met**' : '**not met**');

async function main() {
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  const loadBefore = os.loadavg();
  const log = (s: string) => console.log(`[bench ${fmt((performance.now() - started) / 1000, 0)}s] ${s}`);
  log(`mode: ${quick ? 'quick' : 'full'}`);
  const runSingle = async () => {
    log('single-event mutations vs bare yoga…');
    const single = await singleEvents();
    log(
      `single: ${fmt(single.service.perSecond)}/s vs bare ${fmt(single.bare.perSecond)}/s: ${fmt(single.service.perSecond / single.bare.perSecond, 2)}x, ${fmt(single.service.requests / Math.max(1, single.commits), 1)} per commit`,
    );
    return single;
  };
  const runBatch = async (order: BatchOrder) => {
    log(`batches, ${order}…`);
    const batch = await batches(order);
    log(
      `batch ${order}: ${fmt(batch.serviceEvents)} events/s vs raw ${fmt(batch.raw)} rows/s: ${fmt(batch.serviceEvents / batch.raw, 2)}x`,
    );
    return batch;
  };
  if (only) {
    if (only === '--writes' || only === '--single') await runSingle();
    if (only === '--writes' || only === '--batch')
      for (const order of ['scattered', 'live'] as const) await runBatch(order);
    if (only === '--dashboards') {
      const dash = await dashboards();
      for (const r of dash.rows)
        log(
          `${fmt(r.size)}: one p50 ${ms(r.one.p50)} p95 ${ms(r.one.p95)}, all p50 ${ms(r.all.p50)} p95 ${ms(r.all.p95)}`,
        );
    }
    log(`no report written (${only})`);
    return;
  }
  const single = await runSingle();
  const batch = await runBatch('scattered');
  const live = await runBatch('live');
  log('dashboards…');
  const dash = await dashboards();
  for (const r of dash.rows)
    log(
      `${fmt(r.size)}: one p50 ${ms(r.one.p50)} p95 ${ms(r.one.p95)}, all p50 ${ms(r.all.p50)} p95 ${ms(r.all.p95)}; naive all p50 ${ms(r.naiveAll.p50)}`,
    );
  const minutes = (performance.now() - started) / 60_000;

  const sqliteVersion = (() => {
    const db = new SQLite(':memory:');
    const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
    return v;
  })();
  const first = dash.rows[0];
  const last = dash.rows[dash.rows.length - 1];
  const singleRatio = single.service.perSecond / single.bare.perSecond;
  const batchRatio = batch.serviceEvents / batch.raw;
  const liveRatio = live.serviceEvents / live.raw;
  const worstP95 = Math.max(last.one.p95, last.all.p95);
  const growth = Math.max(last.one.p50 / first.one.p50, last.all.p50 / first.all.p50);
  const full = !quick;

  const report = `# Benchmark report

Written by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16)}Z in ${fmt(minutes, 1)} minutes.
${quick ? '\n**Quick mode**: short runs and small datasets, a CI-sized check; the targets apply to the full run (`npm run bench`).\n' : ''}
## Machine

| | |
| --- | --- |
| CPU | ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores |
| Memory | ${fmt(os.totalmem() / 2 ** 30, 1)} GiB |
| OS | ${os.type()} ${os.release()} |
| Load average (1, 5, 15 min) | ${loadBefore.map((l) => l.toFixed(1)).join(', ')} at the start, ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')} at the end: other work on the machine competes with every figure |
| Node | ${process.version} |
| SQLite | ${sqliteVersion} (better-sqlite3), WAL, \`synchronous=FULL\` |

## Commands

- \`npm run bench\` — the full run below (\`npm run bench -- --quick\`: CI-sized).
- \`BENCH_PROFILE=1 npm run bench\` — the same, with \`node --cpu-prof\` profiles of each server in \`bench/data/profiles/\`.
- Servers (the service via \`buildApp\`, and a bare graphql-yoga server) and the load generator
  (\`node:http\` keep-alive clients) each run in their own process; on 2 cores the server gets one
  and the load generator the other. Databases live in \`bench/data/\` (gitignored).
- Both servers run with \`NODE_ENV=production\` in their environment, as deployed (docs/DEPLOYMENT.md).

## Single-event mutations over HTTP, ${CONCURRENCY} concurrent clients, ${SETTINGS.loadMs / 1000} s each

Both servers run side by side; the ${SETTINGS.loadMs / 1000} s of load on each are cut into ${ROUNDS} rounds that
alternate between them, so that load from elsewhere on this shared machine falls on both. Latencies
are those of each server's median round.

| | requests/s | p50 ms | p95 ms | p99 ms | failures |
| --- | ---: | ---: | ---: | ---: | ---: |
| baseline: bare graphql-yoga, \`{ hello }\` | ${fmt(single.bare.perSecond)} | ${ms(single.bare.p50)} | ${ms(single.bare.p95)} | ${ms(single.bare.p99)} | ${single.bare.failures} |
| \`recordResolutionTime\`, durable (\`synchronous=FULL\`) | ${fmt(single.service.perSecond)} | ${ms(single.service.p50)} | ${ms(single.service.p95)} | ${ms(single.service.p99)} | ${single.service.failures} |

Ratio: **${fmt(singleRatio, 2)}x** the bare server (target ≥ 0.6x). ${fmt(single.service.requests)} mutations were
committed in ${fmt(single.commits)} transactions (${fmt(single.service.requests / Math.max(1, single.commits), 1)} mutations per commit: group commit).
Each mutation authenticates a stored INTEGRATION key, checks its program and answers after its commit.

## Batch ingestion: \`recordEvents\` with ${fmt(BATCH)} events per call, ${BATCH_CLIENTS} clients

The service's ${SETTINGS.loadMs / 1000} s of load and the raw inserts alternate in ${ROUNDS} rounds, as above.

Two orders of arrival (bench/batch-events.ts), each against raw inserts of the very same rows:
**scattered**, events of the last 24 hours in no order, as late data or a nightly export arrives
(every batch touches every hour of the day, in the rollups and in the events' time index), and
**live**, events that just happened, in order, as a live integration sends them.

| | scattered events/s | live events/s |
| --- | ---: | ---: |
| \`recordEvents\` over HTTP (validation, GraphQL, events + rollups, durable commit) | ${fmt(batch.serviceEvents)} | ${fmt(live.serviceEvents)} |
| baseline: raw better-sqlite3, same rows, same table and indexes, ${fmt(BATCH)} rows per durable transaction | ${fmt(batch.raw)} | ${fmt(live.raw)} |
| ratio | **${fmt(batchRatio, 2)}x** | **${fmt(liveRatio, 2)}x** |

Targets: at least 0.25x raw inserts and 100,000 events/s. Raw inserts of the scattered rows are
themselves far slower than of live ones: each batch lands all over the time index.
${[batch, live]
  .filter((b) => b.service.failures)
  .map((b) => `Failures: ${b.service.failures} (first: \`${b.service.firstFailure}\`)`)
  .join('\n')}

## Dashboards: one-year range, DAY series (365 points with every KPI), ${dash.programs} programs

Events are spread over 400 days across ${dash.programs} programs in 7 zones. "One program" is
\`${dash.kolkata}\` (Asia/Kolkata, series in its own zone); "all programs" cuts the series in UTC.
Latency is measured at the client over HTTP, ${SETTINGS.dashboards} sequential requests after warm-up.
The baseline is the naive raw-scan \`GROUP BY day, kind\` in better-sqlite3 (counts and sums only, no
percentiles, no GraphQL), ${SETTINGS.naiveRuns} runs.

| stored events | load s | one program p50 / p95 ms | naive one p50 / p95 ms | all programs p50 / p95 ms | naive all p50 / p95 ms |
| ---: | ---: | ---: | ---: | ---: | ---: |
${dash.rows.map((r) => `| ${fmt(r.size)} | ${fmt(r.loadSeconds, 1)} | ${ms(r.one.p50)} / ${ms(r.one.p95)} | ${ms(r.naiveOne.p50)} / ${ms(r.naiveOne.p95)} | ${ms(r.all.p50)} / ${ms(r.all.p95)} | ${ms(r.naiveAll.p50)} / ${ms(r.naiveAll.p95)} |`).join('\n')}

"load s": generating and bulk-loading the added events, folded into the rollups by the service's own
\`rollupDeltas\`/\`applyRollupDeltas\` (not a measured path).

**While ingesting**: at ${fmt(last.size)} events, the one-program dashboard asked again and again while
${BATCH_CLIENTS} clients send live batches of ${fmt(BATCH)} for ${SETTINGS.ingestMs / 1000} s, first on the server above, then on one
started with \`SQLITE_WRITER_THREAD=off\` (every commit in the service's thread):

| | dashboard p50 / p95 ms | dashboards | events/s taken meanwhile |
| --- | ---: | ---: | ---: |
| batches in the writer thread (default) | ${ms(dash.ingesting.p50)} / ${ms(dash.ingesting.p95)} | ${fmt(dash.ingesting.count)} | ${fmt(dash.ingesting.eventsPerSecond)} |
| batches in the service's thread | ${ms(dash.inProcess.p50)} / ${ms(dash.inProcess.p95)} | ${fmt(dash.inProcess.count)} | ${fmt(dash.inProcess.eventsPerSecond)} |
${dash.ingesting.failures + dash.inProcess.failures ? `\nBatches failed: ${dash.ingesting.failures} and ${dash.inProcess.failures}.\n` : ''}
## Memory

Server RSS after answering the dashboards at ${fmt(last.size)} events: **${mb(dash.rss.rss)}** (peak ${mb(dash.rss.maxRss)}).
After it has also taken the batches above: **${mb(dash.rssWriting.rss)}** (peak ${mb(dash.rssWriting.maxRss)}); the writer thread, a
second V8 isolate with its own SQLite connection, starts with the first batch. The server with
\`SQLITE_WRITER_THREAD=off\`, after the same: **${mb(dash.inProcess.rss)}**.

## Targets

| target | figure | |
| --- | --- | --- |
| single-event ≥ 0.6x bare yoga, durable | ${fmt(singleRatio, 2)}x | ${verdict(singleRatio >= 0.6)} |
| batch ≥ 100,000 events/s, scattered | ${fmt(batch.serviceEvents)} | ${verdict(batch.serviceEvents >= 100_000)} |
| batch ≥ 100,000 events/s, live | ${fmt(live.serviceEvents)} | ${verdict(live.serviceEvents >= 100_000)} |
| batch ≥ 0.25x raw inserts, scattered | ${fmt(batchRatio, 2)}x | ${verdict(batchRatio >= 0.25)} |
| batch ≥ 0.25x raw inserts, live | ${fmt(liveRatio, 2)}x | ${verdict(liveRatio >= 0.25)} |
| dashboard p95 at ${fmt(last.size)} < 25 ms | ${ms(worstP95)} ms (worse of one / all) | ${verdict(worstP95 < 25)} |
| p50 at ${fmt(last.size)} ≤ 3x p50 at ${fmt(first.size)} | ${fmt(growth, 2)}x (worse of one / all) | ${verdict(growth <= 3)} |
| RSS at ${fmt(last.size)} < 300 MB, reading | ${mb(dash.rss.rss)} | ${verdict(dash.rss.rss < 300 * 2 ** 20)} |
| RSS at ${fmt(last.size)} < 300 MB, reading and writing | ${mb(dash.rssWriting.rss)} | ${verdict(dash.rssWriting.rss < 300 * 2 ** 20)} |
| RSS at ${fmt(last.size)} < 300 MB, reading and writing, \`SQLITE_WRITER_THREAD=off\` | ${mb(dash.inProcess.rss)} | ${verdict(dash.inProcess.rss < 300 * 2 ** 20)} |
${full ? '' : '\nQuick mode uses smaller sizes than the targets name; read them as a smoke test.\n'}`;
  const reportFile = path.join(here, 'REPORT.md');
  // Sections other benchmarks write (bench/breakdowns.ts, bench/compression.ts, bench/startup.ts) are kept.
  const old = existsSync(reportFile) ? readFileSync(reportFile, 'utf8') : '';
  const kept = [
    BREAKDOWNS_SECTION,
    COMPRESSION_SECTION,
    STARTUP_SECTION,
    IMPACT_SECTION,
    IMPORT_SECTION,
    DRILLDOWN_SECTION,
    SERIES_FLOOR_SECTION,
  ]
    .map((name) => sectionOf(old, name))
    .filter(Boolean);
  writeFileSync(reportFile, kept.length ? `${report.trimEnd()}\n\n${kept.join('\n\n')}\n` : report);
  log(`wrote bench/REPORT.md (${fmt(minutes, 1)} min)`);
}

await main();
