/**
 * `npm run bench:postgres` (`-- --quick` for a CI-sized check): the service on PostgreSQL beside
 * the same service on SQLite, the same measurements in the same run, written to bench/POSTGRES.md.
 * Ingestion (single-event mutations, recordEvents batches) on a fresh database, then dashboard
 * latency over growing datasets, then what 1, 2 and 3 instances on one PostgreSQL write
 * (`-- --instances` runs that part alone and replaces its section of the report). PostgreSQL is BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
 * the local server; the bench works in a schema of its own (bench_pg_<pid>) and drops it at the end.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import type { EventTable } from '../src/db/types.js';
import { applyRollupDeltas, rollupDeltas } from '../src/kpis/rollups.repository.js';
import { ALL_PROGRAMS } from '../src/kpis/rollup-levels.js';
import { addEvents, createDatabase, generateEvents, PROGRAMS, type BenchEvent } from './dataset.js';
import {
  BATCH,
  BATCH_CLIENTS,
  CONCURRENCY,
  createKey,
  END,
  fmt,
  load,
  ms,
  percentiles,
  SPAN,
  startServer,
  timed,
  withSection,
  yearDashboard,
} from './harness.js';
import type { LoadJob, LoadResult } from './load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, 'data');
const quick = process.argv.includes('--quick');
const SETTINGS = quick
  ? { loadMs: 2_000, warmMs: 500, sizes: [10_000, 100_000], dashboards: 15 }
  : { loadMs: 5_000, warmMs: 1_000, sizes: [100_000, 1_000_000], dashboards: 40 };
const POSTGRES =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
// Names of this run's own: two runs at once (engineers side by side) never remove each other's data.
const SCHEMA = `bench_pg_${process.pid}`;
const SQLITE_FILE = path.join(dataDir, `compare-${process.pid}.db`);

/** A database the service can run on, made fresh and filled for the bench. */
interface Target {
  name: string;
  /** DATABASE_URL of a fresh, migrated database with the bench's programs. */
  fresh(): Promise<string>;
  addEvents(url: string, count: number, seed: number): Promise<void>;
  cleanUp(): Promise<void>;
}

const sqliteTarget: Target = {
  name: 'SQLite',
  async fresh() {
    for (const suffix of ['', '-wal', '-shm']) rmSync(SQLITE_FILE + suffix, { force: true });
    await createDatabase(SQLITE_FILE);
    return SQLITE_FILE;
  },
  addEvents: (file, count, seed) => addEvents(file, count, END - SPAN, END, seed),
  async cleanUp() {
    for (const suffix of ['', '-wal', '-shm']) rmSync(SQLITE_FILE + suffix, { force: true });
  },
};

async function dropSchema(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  await client.query(`drop schema if exists ${SCHEMA} cascade`);
  await client.end();
}

const postgresTarget: Target = {
  name: 'PostgreSQL',
  async fresh() {
    await dropSchema();
    const url = new URL(POSTGRES);
    url.searchParams.set('schema', SCHEMA);
    await createDatabase(url.toString());
    return url.toString();
  },
  addEvents: (url, count, seed) => addEventsPostgres(url, count, seed),
  cleanUp: dropSchema,
};

/**
 * The PostgreSQL counterpart of dataset.addEvents: the same generated events, inserted in
 * multi-row statements and folded into the rollups by the service's own functions.
 */
async function addEventsPostgres(url: string, count: number, seed: number): Promise<void> {
  const database = await openDatabase(url);
  const { db } = database;
  const max = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  const zones = new Map(PROGRAMS.map((p) => [p.id, p.timezone]));
  const row = (e: BenchEvent): EventTable => ({
    ...e,
    reason: null,
    recorded_at: e.occurred_at,
    retracted_at: null,
    idempotency_key: null,
    payload_hash: null,
    api_key_id: null,
    attributes: null,
  });
  let chunk: BenchEvent[] = [];
  const flush = async () => {
    const events = chunk;
    chunk = [];
    await db.transaction().execute(async (trx) => {
      // 12 parameters a row: 5,000 rows a statement stays under PostgreSQL's 65,535.
      for (let i = 0; i < events.length; i += 5_000)
        await trx
          .insertInto('events')
          .values(events.slice(i, i + 5_000).map(row))
          .execute();
      await applyRollupDeltas(trx, rollupDeltas(events, zones, 1, new Map(), ALL_PROGRAMS));
    });
  };
  for (const event of generateEvents(count, END - SPAN, END, Number(max?.max ?? 0) + 1, seed)) {
    chunk.push(event);
    if (chunk.length === 50_000) await flush();
  }
  if (chunk.length) await flush();
  // The service takes ids from the sequence: move it past the loaded ones. Fresh statistics, as autovacuum would.
  await sql`select setval('events_id_seq', (select max(id) from events))`.execute(db);
  await sql`analyze`.execute(db);
  await database.close();
}

// ---------------------------------------------------------------- measurements

/**
 * Other work on a shared machine comes and goes: the two databases are measured in alternating
 * rounds, and each ingestion figure is the better of its rounds, so neither side alone meets a
 * busy moment.
 */
const ROUNDS = 2;

async function ingestionRound(target: Target, body: 'single' | 'batch'): Promise<LoadResult & { commits: number }> {
  const app = await startServer('app', await target.fresh());
  const key = await createKey(app.url, 'INTEGRATION');
  const job: LoadJob = {
    url: app.url,
    authorization: `Bearer ${key}`,
    body,
    programIds: PROGRAMS.map((p) => p.id),
    concurrency: body === 'single' ? CONCURRENCY : BATCH_CLIENTS,
    batchSize: BATCH,
    durationMs: SETTINGS.warmMs,
  };
  await load(job);
  const before = await app.stats();
  const result = await load({ ...job, durationMs: SETTINGS.loadMs });
  const after = await app.stats();
  await app.stop();
  return { ...result, commits: after.commits - before.commits };
}

async function ingestion(targets: Target[], log: (s: string) => void) {
  const best = targets.map(() => ({
    single: null as null | Awaited<ReturnType<typeof ingestionRound>>,
    batch: null as null | Awaited<ReturnType<typeof ingestionRound>>,
  }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const body of ['single', 'batch'] as const) {
      for (const [i, target] of targets.entries()) {
        const result = await ingestionRound(target, body);
        log(`${target.name} ${body} round ${round + 1}: ${fmt(result.perSecond)} requests/s`);
        if (!best[i][body] || result.perSecond > best[i][body]!.perSecond) best[i][body] = result;
      }
    }
  }
  return best.map(({ single, batch }) => ({
    single: single!,
    batch: batch!,
    batchEvents: ((batch!.requests - batch!.failures) * BATCH) / batch!.seconds,
  }));
}

async function dashboards(targets: Target[], log: (s: string) => void) {
  const urls = [];
  for (const target of targets) urls.push(await target.fresh());
  const kolkata = PROGRAMS.find((p) => p.timezone === 'Asia/Kolkata')!;
  const rows = [];
  let stored = 0;
  for (const [i, size] of SETTINGS.sizes.entries()) {
    for (const [t, target] of targets.entries()) {
      const t0 = performance.now();
      await target.addEvents(urls[t], size - stored, 1000 + i);
      log(`${target.name}: ${fmt(size)} events loaded in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    }
    stored = size;
    const servers = [];
    for (const url of urls) {
      const app = await startServer('app', url);
      const key = await createKey(app.url, 'VIEWER');
      const ask = (programId: string | null) => yearDashboard(app.url, key, programId);
      await timed(5, ask(kolkata.id));
      await timed(5, ask(null));
      servers.push({ app, ask, one: [] as number[], all: [] as number[] });
    }
    for (let round = 0; round < 4; round++) {
      for (const s of servers) s.one.push(...(await timed(SETTINGS.dashboards / 4, s.ask(kolkata.id))).samples);
      for (const s of servers) s.all.push(...(await timed(SETTINGS.dashboards / 4, s.ask(null))).samples);
    }
    const row: { one: ReturnType<typeof percentiles>; all: ReturnType<typeof percentiles>; resolved: number }[] = [];
    for (const s of servers) {
      const check = await s.ask(null)();
      await s.app.stop();
      row.push({ one: percentiles(s.one), all: percentiles(s.all), resolved: check.dashboard.resolvedCases as number });
    }
    if (row.some((r) => r.resolved !== row[0].resolved))
      throw new Error(`the databases disagree at ${size} events: ${row.map((r) => r.resolved).join(' vs ')}`);
    rows.push({ size, byTarget: row });
  }
  return rows;
}

// ---------------------------------------------------------------- report

async function postgresSettings(): Promise<string> {
  const client = new pg.Client({ connectionString: POSTGRES });
  await client.connect();
  const one = async (q: string) => Object.values((await client.query(q)).rows[0])[0] as string;
  const version = (await one('show server_version')).split(' ')[0];
  const settings = `PostgreSQL ${version} on the same machine over TCP (127.0.0.1), \`fsync=${await one('show fsync')}\`, \`synchronous_commit=${await one('show synchronous_commit')}\`, \`shared_buffers=${await one('show shared_buffers')}\`; the service's pool holds 10 connections`;
  await client.end();
  return settings;
}

// ---------------------------------------------------------------- instances

/** The section `--instances` writes into bench/POSTGRES.md. */
const INSTANCES_SECTION = 'instances';
/** Clients in all, split evenly across the instances (divisible by 1, 2 and 3). */
const SINGLE_CLIENTS = 48;
const BATCH_CLIENTS_ALL = 6;
const INSTANCE_COUNTS = [1, 2, 3] as const;
/** Rounds of every case (each starts up to three servers, so quick mode keeps to one). */
const INSTANCE_ROUNDS = quick ? 1 : ROUNDS;

interface InstancesRun {
  programs: 'distinct' | 'hot';
  body: 'single' | 'batch';
  instances: number;
  /** Requests/s (single) or events/s (batch), summed over the instances' load generators. */
  rate: number;
  p50: number;
  p95: number;
  failures: number;
  commits: number;
}

/**
 * `instances` server processes on one fresh PostgreSQL schema, each with its own load generator
 * and a share of the clients. 'distinct': instance i writes the programs whose index is i modulo
 * the instances, so no two write the same program; 'hot': every instance writes one program.
 */
async function instancesRound(
  programs: InstancesRun['programs'],
  body: InstancesRun['body'],
  instances: number,
): Promise<InstancesRun> {
  const url = await postgresTarget.fresh();
  const servers = [];
  for (let i = 0; i < instances; i++) servers.push(await startServer('app', url));
  try {
    const key = await createKey(servers[0].url, 'INTEGRATION');
    const jobs = servers.map(
      (server, i): LoadJob => ({
        url: server.url,
        authorization: `Bearer ${key}`,
        body,
        programIds:
          programs === 'hot' ? [PROGRAMS[0].id] : PROGRAMS.filter((_, p) => p % instances === i).map((p) => p.id),
        concurrency: (body === 'single' ? SINGLE_CLIENTS : BATCH_CLIENTS_ALL) / instances,
        batchSize: BATCH,
        durationMs: SETTINGS.warmMs,
      }),
    );
    await Promise.all(jobs.map((job) => load(job)));
    const before = await Promise.all(servers.map((s) => s.stats()));
    const results = await Promise.all(jobs.map((job) => load({ ...job, durationMs: SETTINGS.loadMs })));
    const after = await Promise.all(servers.map((s) => s.stats()));
    const served = results.reduce((sum, r) => sum + r.requests - r.failures, 0);
    const seconds = Math.max(...results.map((r) => r.seconds));
    // Latency of the generator that saw the most requests, as a typical one.
    const typical = results.reduce((a, b) => (b.requests > a.requests ? b : a));
    return {
      programs,
      body,
      instances,
      rate: (served * (body === 'batch' ? BATCH : 1)) / seconds,
      p50: typical.p50,
      p95: typical.p95,
      failures: results.reduce((sum, r) => sum + r.failures, 0),
      commits: after.reduce((sum, a, i) => sum + a.commits - before[i].commits, 0),
    };
  } finally {
    for (const server of servers) await server.stop();
  }
}

/** Every case twice, in alternating order, keeping the better round: other work on the machine comes and goes. */
async function instancesScaling(log: (s: string) => void): Promise<InstancesRun[]> {
  const best = new Map<string, InstancesRun>();
  for (let round = 0; round < INSTANCE_ROUNDS; round++) {
    for (const programs of ['distinct', 'hot'] as const) {
      for (const body of ['single', 'batch'] as const) {
        const counts = round % 2 === 0 ? INSTANCE_COUNTS : [...INSTANCE_COUNTS].reverse();
        for (const instances of counts) {
          const run = await instancesRound(programs, body, instances);
          log(
            `${programs} ${body} × ${instances}: ${fmt(run.rate)} ${body === 'batch' ? 'events' : 'requests'}/s, p95 ${ms(run.p95)} ms, ${run.failures} failures`,
          );
          const key = `${programs} ${body} ${instances}`;
          if (!best.has(key) || run.rate > best.get(key)!.rate) best.set(key, run);
        }
      }
    }
  }
  return [...best.values()];
}

function instancesSection(runs: InstancesRun[], minutes: number): string {
  const find = (programs: string, body: string, n: number) =>
    runs.find((r) => r.programs === programs && r.body === body && r.instances === n)!;
  const rows = (['distinct', 'hot'] as const).flatMap((programs) =>
    (['single', 'batch'] as const).map((body) => {
      const one = find(programs, body, 1);
      const cells = INSTANCE_COUNTS.map((n) => {
        const r = find(programs, body, n);
        return `${fmt(r.rate)} (${fmt(r.rate / one.rate, 2)}x), p95 ${ms(r.p95)} ms`;
      });
      const what =
        body === 'single'
          ? `single events, ${SINGLE_CLIENTS} clients: requests/s`
          : `batches of ${fmt(BATCH)}, ${BATCH_CLIENTS_ALL} clients: events/s`;
      return `| ${programs === 'distinct' ? 'distinct programs' : 'one hot program'} | ${what} | ${cells.join(' | ')} |`;
    }),
  );
  const failures = runs.reduce((sum, r) => sum + r.failures, 0);
  return `## What instances add: 1, 2 and 3 server processes on one PostgreSQL

Written by \`npm run bench:postgres -- --instances${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 16)}Z in ${fmt(minutes, 1)} minutes, load average ${os
    .loadavg()
    .map((l) => fmt(l, 1))
    .join(
      ' / ',
    )} at the end (${os.cpus().length} cores, shared by every server process, every load generator, PostgreSQL and other engineers' work).

Each case starts its instances on a fresh schema; every instance has a load generator of its own
with an even share of the clients (the total stays the same), ${SETTINGS.loadMs / 1000} s after ${SETTINGS.warmMs / 1000} s of warm-up, the
better of ${INSTANCE_ROUNDS} round(s) (run in alternating order). "Distinct programs": instance *i* writes the programs
whose index is *i* modulo the instances (${PROGRAMS.length} programs in all), so no two instances write the same
program; "one hot program": every instance writes the same one. Ratios are against one instance in
the same run. Failures: ${failures}.

| programs | load | 1 instance | 2 instances | 3 instances |
| --- | --- | ---: | ---: | ---: |
${rows.join('\n')}

What limits the ratios here: the machine has ${os.cpus().length} cores for everything. One instance already
keeps them busy (its event loop, PostgreSQL's backends, the load generator), so a second or third
process adds no CPU, only more processes competing for the same two, plus the cost of a connection
pool and a plan cache each. What the writers no longer do is wait for one another: before this
change every commit also locked the all-programs rollups, so the transactions of all instances ran
one at a time whatever their programs (docs/DEPLOYMENT.md). On hardware with cores to spare, distinct
programs scale with the instances until PostgreSQL's own commit rate (fsync) or CPU is the limit.

One hot program is different by design: its writers take the program's lock (read-modify-write of
its rollups and idempotency checks), so its commits are serial across every instance. Its ceiling
is one commit at a time; group commit makes each commit carry what every waiting mutation of that
instance brought, so the events per second still grow with batching, not with instances.`;
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  if (process.argv.includes('--instances')) return instancesOnly();
  const started = performance.now();
  const log = (s: string) => console.log(`[bench:postgres ${fmt((performance.now() - started) / 1000, 0)}s] ${s}`);
  log(`mode: ${quick ? 'quick' : 'full'}; PostgreSQL at ${new URL(POSTGRES).host}`);
  const targets = [sqliteTarget, postgresTarget];
  log('ingestion, alternating…');
  const [sqliteIngest, postgresIngest] = await ingestion(targets, log);
  log('dashboards, alternating…');
  const dash = await dashboards(targets, log);
  for (const r of dash) {
    for (const [t, target] of targets.entries()) {
      const { one, all } = r.byTarget[t];
      log(
        `${target.name} ${fmt(r.size)}: one p50 ${ms(one.p50)} p95 ${ms(one.p95)}, all p50 ${ms(all.p50)} p95 ${ms(all.p95)}`,
      );
    }
  }
  for (const target of targets) await target.cleanUp();
  const sqlite = { ingest: sqliteIngest, dash: dash.map((r) => ({ size: r.size, ...r.byTarget[0] })) };
  const postgres = { ingest: postgresIngest, dash: dash.map((r) => ({ size: r.size, ...r.byTarget[1] })) };
  const minutes = (performance.now() - started) / 60_000;
  const ratio = (p: number, s: number) => `${fmt(p / s, 2)}x`;

  const report = `# PostgreSQL beside SQLite

Written by \`npm run bench:postgres${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 16)}Z in ${fmt(minutes, 1)} minutes, on
${os.cpus()[0]?.model ?? 'an unknown CPU'} (${os.cpus().length} cores, shared by the server, the load generator and PostgreSQL),
Node ${process.version}, load average ${os
    .loadavg()
    .map((l) => fmt(l, 1))
    .join(' / ')} (1 / 5 / 15 min) at the end: other work on the machine shows in the figures.
${await postgresSettings()}. SQLite: WAL, \`synchronous=FULL\`.
${quick ? '\n**Quick mode**: short runs and small datasets.\n' : ''}
Both columns are the same service (\`buildApp\` in its own process, the load generator in
another) with only \`DATABASE_URL\` changed, measured in alternating rounds in this run
(ingestion: the better of ${ROUNDS} rounds each; dashboards: 4 alternating rounds pooled); the
dashboards of both databases agree (resolved cases checked at each size). bench/REPORT.md has
SQLite against its baselines (bare yoga, raw inserts, a naive GROUP BY).

## Ingestion, on a fresh database, ${SETTINGS.loadMs / 1000} s each

| | SQLite | PostgreSQL | PostgreSQL / SQLite |
| --- | ---: | ---: | ---: |
| \`recordResolutionTime\`, ${CONCURRENCY} concurrent clients: requests/s | ${fmt(sqlite.ingest.single.perSecond)} | ${fmt(postgres.ingest.single.perSecond)} | ${ratio(postgres.ingest.single.perSecond, sqlite.ingest.single.perSecond)} |
| … p50 / p95 / p99 ms | ${ms(sqlite.ingest.single.p50)} / ${ms(sqlite.ingest.single.p95)} / ${ms(sqlite.ingest.single.p99)} | ${ms(postgres.ingest.single.p50)} / ${ms(postgres.ingest.single.p95)} / ${ms(postgres.ingest.single.p99)} | |
| … mutations per commit (group commit) | ${fmt(sqlite.ingest.single.requests / Math.max(1, sqlite.ingest.single.commits), 1)} | ${fmt(postgres.ingest.single.requests / Math.max(1, postgres.ingest.single.commits), 1)} | |
| \`recordEvents\`, ${fmt(BATCH)} events a call, ${BATCH_CLIENTS} clients: events/s | ${fmt(sqlite.ingest.batchEvents)} | ${fmt(postgres.ingest.batchEvents)} | ${ratio(postgres.ingest.batchEvents, sqlite.ingest.batchEvents)} |
| … p50 / p95 ms a call | ${ms(sqlite.ingest.batch.p50)} / ${ms(sqlite.ingest.batch.p95)} | ${ms(postgres.ingest.batch.p50)} / ${ms(postgres.ingest.batch.p95)} | |
| failures | ${sqlite.ingest.single.failures + sqlite.ingest.batch.failures} | ${postgres.ingest.single.failures + postgres.ingest.batch.failures} | |

## Dashboards: one-year range, DAY series (365 points, every KPI), ${PROGRAMS.length} programs

"One" is a single program in Asia/Kolkata (its own zone), "all" every program (UTC);
${SETTINGS.dashboards} sequential requests each after warm-up, latency at the client.

| stored events | SQLite one p50 / p95 ms | PostgreSQL one p50 / p95 ms | SQLite all p50 / p95 ms | PostgreSQL all p50 / p95 ms |
| ---: | ---: | ---: | ---: | ---: |
${postgres.dash
  .map((p, i) => {
    const s = sqlite.dash[i];
    return `| ${fmt(p.size)} | ${ms(s.one.p50)} / ${ms(s.one.p95)} | ${ms(p.one.p50)} / ${ms(p.one.p95)} | ${ms(s.all.p50)} / ${ms(s.all.p95)} | ${ms(p.all.p50)} / ${ms(p.all.p95)} |`;
  })
  .join('\n')}

## Reading it

SQLite answers in-process; PostgreSQL adds a network round trip per query and a server process
competing for the same ${os.cpus().length} cores. Dashboards read rollups, so their cost follows the buckets
answered, not the events stored, on both. What PostgreSQL buys is not speed on one machine but
several instances on one database (docs/DEPLOYMENT.md).
`;
  log('instances, alternating…');
  const t0 = performance.now();
  const runs = await instancesScaling(log);
  writeFileSync(
    path.join(here, 'POSTGRES.md'),
    withSection(report, INSTANCES_SECTION, instancesSection(runs, (performance.now() - t0) / 60_000)),
  );
  log(`wrote bench/POSTGRES.md (${fmt((performance.now() - started) / 60_000, 1)} min)`);
}

/** `--instances`: the instances part alone, replacing its section of bench/POSTGRES.md. */
async function instancesOnly() {
  const started = performance.now();
  const log = (s: string) => console.log(`[bench:postgres ${fmt((performance.now() - started) / 1000, 0)}s] ${s}`);
  log(`instances only (${quick ? 'quick' : 'full'}); PostgreSQL at ${new URL(POSTGRES).host}`);
  const runs = await instancesScaling(log);
  const file = path.join(here, 'POSTGRES.md');
  writeFileSync(
    file,
    withSection(
      readFileSync(file, 'utf8'),
      INSTANCES_SECTION,
      instancesSection(runs, (performance.now() - started) / 60_000),
    ),
  );
  log('wrote its section of bench/POSTGRES.md');
}

try {
  await main();
} finally {
  // Also after a failure: the schema and the file are this run's own.
  await Promise.allSettled([sqliteTarget.cleanUp(), postgresTarget.cleanUp()]);
}
