/**
 * What an all-programs dashboard costs to read, with 20 and with 200 programs (issue 23, item 1):
 *   - as shipped: from the all-programs rollups (a row per bucket and shard, however many programs);
 *   - merged at read time from every program's own rollups, the alternative to those rows. The
 *     service already reads that way for a key limited to a list of programs, so a VIEWER key
 *     listing every program measures it through the same API;
 *   - one program's dashboard, for scale.
 *
 *   npm run bench:all-programs -- [--events 100000] [--runs 15]
 *
 * In process, on SQLite (one writer: the all-programs rows use their first shard only; on
 * PostgreSQL a read sums up to 16 shards). The query is the benchmarks' one-year dashboard with a
 * DAY series (bench/harness.ts). The three reads take turns, so a change of load weighs on all
 * alike; the figures are medians of `runs` turns after two of warm-up. Writes nothing but its
 * databases in bench/data/ and the table on stdout.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { BENCH_ADMIN_KEY, PROGRAMS, addEvents, createDatabase, type BenchProgram } from './dataset.js';
import { DASHBOARD, END, SPAN, YEAR, freshPath } from './harness.js';

const { values } = parseArgs({ options: { events: { type: 'string' }, runs: { type: 'string' } } });
const EVENTS = Number(values.events ?? 100_000);
const RUNS = Number(values.runs ?? 15);

async function graphql(app: App, key: string, query: string, variables: Record<string, unknown>) {
  const response = await app.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

/** The largest relative difference between two answers' numbers; Infinity when they differ otherwise. */
function largestGap(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number')
    return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b ? 0 : Infinity;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  let gap = 0;
  for (const key of keys)
    gap = Math.max(gap, largestGap((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  return gap;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(count: number) {
  // The benchmarks' twenty offices' mix of zones, repeated.
  const programs: BenchProgram[] = Array.from({ length: count }, (_, i) => ({
    id: `program-${String(i + 1).padStart(3, '0')}`,
    timezone: PROGRAMS[i % PROGRAMS.length].timezone,
  }));
  const path = freshPath(`all-programs-${count}.db`);
  await createDatabase(path, programs);
  await addEvents(path, EVENTS, END - SPAN, END, 23, programs);
  const app = await buildApp(
    loadConfig({
      DATABASE_URL: path,
      ADMIN_API_KEY: BENCH_ADMIN_KEY,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_BURST: '1000000',
    }),
  );
  try {
    const created = await graphql(
      app,
      BENCH_ADMIN_KEY,
      'mutation ($ids: [ID!]) { createApiKey(input: { name: "every program, listed", role: VIEWER, programIds: $ids }) { key } }',
      { ids: programs.map((p) => p.id) },
    );
    const listed = (created.createApiKey as { key: string }).key;
    const range = { from: new Date(YEAR.from).toISOString(), to: new Date(YEAR.to).toISOString() };
    const reads = {
      rows: () => graphql(app, BENCH_ADMIN_KEY, DASHBOARD, { programId: null, ...range }),
      merged: () => graphql(app, listed, DASHBOARD, { programId: null, ...range }),
      one: () => graphql(app, BENCH_ADMIN_KEY, DASHBOARD, { programId: programs[0].id, ...range }),
    };
    // Both ways must give the same dashboard, or the comparison means nothing (to the last bits of a
    // float: a median interpolated from histograms merged in another order may differ in its last place).
    const gap = largestGap(await reads.rows(), await reads.merged());
    if (gap > 1e-12)
      throw new Error(`${count} programs: the all-programs rows and the merged programs differ by ${gap}`);
    const times: Record<keyof typeof reads, number[]> = { rows: [], merged: [], one: [] };
    for (let turn = 0; turn < RUNS + 2; turn++)
      for (const name of Object.keys(reads) as (keyof typeof reads)[]) {
        const started = performance.now();
        await reads[name]();
        if (turn >= 2) times[name].push(performance.now() - started);
      }
    return { count, gap, rows: median(times.rows), merged: median(times.merged), one: median(times.one) };
  } finally {
    await app.stop();
  }
}

const loadBefore = os.loadavg()[0];
const results = [];
for (const count of [20, 200]) results.push(await measure(count));
console.log(
  `\n${EVENTS} events over ${SPAN / 86_400_000} days, one-year DAY dashboard, median of ${RUNS}; load average ${loadBefore.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}\n`,
);
console.log(
  '| programs | all-programs rows ms | merged per program ms | merged / rows | one program ms | largest relative difference |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of results)
  console.log(
    `| ${r.count} | ${r.rows.toFixed(1)} | ${r.merged.toFixed(1)} | ${(r.merged / r.rows).toFixed(2)}x | ${r.one.toFixed(1)} | ${r.gap.toExponential(1)} |`,
  );
