/**
 * What the benchmarks share: servers and the load generator in processes of their own, GraphQL
 * calls, timing and number formats. (Moved from bench/run.ts so bench/postgres.ts uses the same.)
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { DAY } from '../src/kpis/time.js';
import type { BatchOrder } from './batch-events.js';
import { BENCH_ADMIN_KEY, PROGRAMS } from './dataset.js';
import type { LoadJob, LoadResult } from './load.js';

// ---------------------------------------------------------------- the workload

export const CONCURRENCY = 50;
export const BATCH = 1_000;
export const BATCH_CLIENTS = 4;
/** Stored events end here, at an arbitrary millisecond; dashboards ask for the year before it. */
export const END = Date.UTC(2026, 9, 14, 13, 37, 21, 123);
export const SPAN = 400 * DAY;
export const YEAR = { from: END - 365 * DAY, to: END };

/** A one-year dashboard with a DAY series: 365 points with every KPI. */
export const DASHBOARD = `query ($programId: ID, $from: DateTime, $to: DateTime) {
  dashboard(programId: $programId, from: $from, to: $to, granularity: DAY) {
    avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases avgSatisfaction csat satisfactionResponses totalConflicts conflictRate
    series { start avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases avgSatisfaction csat satisfactionResponses totalConflicts conflictRate }
  }
}`;

// ---------------------------------------------------------------- processes

const here = path.dirname(fileURLToPath(import.meta.url));
export const dataDir = path.join(here, 'data');

/** A path in bench/data/ with no database file (nor its WAL) left from an earlier run. */
export function freshPath(name: string): string {
  const file = path.join(dataDir, name);
  for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true });
  return file;
}

const profile = process.env.BENCH_PROFILE === '1';

export interface Server {
  url: string;
  child: ChildProcess;
  stats(): Promise<{ rss: number; maxRss: number; commits: number }>;
  stop(): Promise<void>;
}

export function tsxFork(file: string, args: string[], name: string): ChildProcess {
  const execArgv = ['--import', 'tsx'];
  // A directory per server: tsx's loader thread writes a profile too, and a fixed name would let it overwrite the main thread's.
  if (profile && name !== 'load')
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${path.join(dataDir, 'profiles', `${name}-${Date.now()}`)}`);
  // Servers run as deployed (docs/DEPLOYMENT.md): NODE_ENV=production in the environment, which
  // graphql-js reads when loaded (its development mode adds checks to every instanceof), not only
  // in the service's config. The bare yoga baseline gets the same.
  const env = name === 'load' ? process.env : { ...process.env, NODE_ENV: 'production' };
  return fork(path.join(here, file), args, { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export function nextMessage<T>(child: ChildProcess, type?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: any) => {
      if (type && message?.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
  });
}

/** `config`: the service's settings beside the bench's own (bench/server.ts), as environment variables. */
export async function startServer(
  kind: 'app' | 'yoga',
  databasePath = '',
  config: Record<string, string> = {},
): Promise<Server> {
  const child = tsxFork('server.ts', [kind, databasePath, JSON.stringify(config)], kind);
  const { url } = await nextMessage<{ url: string }>(child, 'ready');
  return {
    url,
    child,
    stats: async () => {
      child.send({ type: 'stats' });
      return nextMessage(child, 'stats');
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

export async function load(job: LoadJob): Promise<LoadResult> {
  const child = tsxFork('load.ts', [], 'load');
  const result = nextMessage<LoadResult>(child);
  child.send(job);
  return result;
}

export async function gql<T = any>(
  url: string,
  key: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** The one-year DAY-series dashboard of `programId` (null: every program), asked with `key`. */
export function yearDashboard(url: string, key: string, programId: string | null) {
  return () =>
    gql<{ dashboard: { resolvedCases: number; series: unknown[] } }>(url, key, DASHBOARD, {
      programId,
      from: new Date(YEAR.from).toISOString(),
      to: new Date(YEAR.to).toISOString(),
    });
}

export async function createKey(url: string, role: 'INTEGRATION' | 'VIEWER'): Promise<string> {
  const data = await gql(
    url,
    BENCH_ADMIN_KEY,
    'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }',
    {
      input: { name: `bench ${role}`, role },
    },
  );
  return data.createApiKey.key;
}

export /** Rounds added up: requests over seconds; latency percentiles of the round whose throughput is the median. */
function combine(rounds: LoadResult[]): LoadResult {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const middle = [...rounds].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rounds.length / 2)];
  return {
    ...middle,
    requests,
    seconds,
    perSecond: requests / seconds,
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    firstFailure: rounds.find((r) => r.firstFailure)?.firstFailure ?? null,
  };
}

/** BATCH_CLIENTS clients sending batches of BATCH events to `url` for `durationMs`; `attributes`: each event carries office, channel and case type. */
export function batchJob(url: string, key: string, durationMs: number, order: BatchOrder, attributes = false): LoadJob {
  return {
    url,
    authorization: `Bearer ${key}`,
    body: 'batch',
    batchSize: BATCH,
    programIds: PROGRAMS.map((p) => p.id),
    concurrency: BATCH_CLIENTS,
    durationMs,
    order,
    attributes,
  };
}

/**
 * Dashboards asked one after another while BATCH_CLIENTS clients send live batches (with
 * office, channel and case type when `attributes`): what a reader
 * sees of heavy ingestion, and the memory of a server that writes too. Only answers that began
 * once the load had started count.
 */
export async function dashboardsWhileIngesting(
  app: Server,
  ask: () => Promise<unknown>,
  durationMs: number,
  attributes = false,
) {
  const key = await createKey(app.url, 'INTEGRATION');
  let ended = false;
  const loading = load(batchJob(app.url, key, durationMs, 'live', attributes)).finally(() => (ended = true));
  const samples: { at: number; ms: number }[] = [];
  while (!ended) {
    const at = performance.now();
    await ask();
    samples.push({ at, ms: performance.now() - at });
  }
  const ingest = await loading;
  const began = performance.now() - ingest.seconds * 1000;
  const during = samples.filter((s) => s.at >= began).map((s) => s.ms);
  return {
    ...percentiles(during),
    count: during.length,
    eventsPerSecond: ((ingest.requests - ingest.failures) * BATCH) / ingest.seconds,
    failures: ingest.failures,
  };
}

export function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { p50: at(0.5), p95: at(0.95) };
}

export async function timed(runs: number, fn: () => Promise<unknown> | unknown) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  return { ...percentiles(samples), samples };
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const ms = (n: number) => fmt(n, n < 10 ? 2 : 1);
export const mb = (bytes: number) => `${fmt(bytes / 2 ** 20)} MB`;

// ---------------------------------------------------------------- the report

/**
 * bench/REPORT.md is written by more than one command: `npm run bench` writes it whole, and keeps
 * the parts other commands (`npm run bench:breakdowns`) wrote, each between markers of its name.
 */
const markers = (name: string) => [`<!-- ${name}: written by its own command -->`, `<!-- /${name} -->`] as const;

/** The section bench/compression.ts writes. */
export const COMPRESSION_SECTION = 'compression';
/** The section bench/startup.ts writes. */
export const STARTUP_SECTION = 'startup';
/** The section bench/impact.ts writes. */
export const IMPACT_SECTION = 'impact';
/** The section bench/import.ts writes. */
export const IMPORT_SECTION = 'import';
/** The section bench/drilldown.ts writes. */
export const DRILLDOWN_SECTION = 'drilldown';
/** The section bench/series-floor.ts writes. */
export const SERIES_FLOOR_SECTION = 'series-floor';

export function sectionOf(report: string, name: string): string {
  const [open, close] = markers(name);
  const start = report.indexOf(open);
  const end = report.indexOf(close);
  return start >= 0 && end > start ? report.slice(start, end + close.length) : '';
}

export function withSection(report: string, name: string, text: string): string {
  const [open, close] = markers(name);
  const section = `${open}\n${text.trim()}\n${close}`;
  const old = sectionOf(report, name);
  return old ? report.replace(old, section) : `${report.trimEnd()}\n\n${section}\n`;
}
