/**
 * What each read path of issue 18 costs, in one process on one SQLite file, beside the naive
 * GROUP BY over raw events: a year's DAY dashboard unfiltered, filtered on one dimension (value
 * rollups), filtered on two (raw events in range, matched one by one), a breakdown by office
 * (totals only and with series), and ingestion of the same batches with and without 3 attributes.
 * The full-scale figures (10M events, 20 programs) are bench/run.ts's; this isolates the paths.
 *
 *   npx tsx bench/filter-paths.ts            # FILTER_BENCH_EVENTS=300000 by default
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Caller } from '../src/auth/caller.js';
import { loadConfig } from '../src/config.js';
import { createLoaders, type Context, type Services } from '../src/context.js';
import { dashboardBreakdown } from '../src/dashboards/breakdown.js';
import { dashboardSeries, dashboardTotals, resolveScope } from '../src/dashboards/dashboard.service.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { encodeAttributes } from '../src/events/attributes.js';
import type { ValidEvent } from '../src/events/validate.js';
import { DAY } from '../src/kpis/time.js';
import { insertDimensions } from '../src/programs/dimensions.repository.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { Recorder } from '../src/write/record.service.js';

const EVENTS = Number(process.env.FILTER_BENCH_EVENTS ?? 300_000);
const BATCH = 10_000;
const END = Date.UTC(2026, 9, 14, 13, 37, 21, 123);
const FROM = END - 365 * DAY;
const ROUNDS = 20;
const OFFICES = Array.from({ length: 50 }, (_, i) => `office-${i}`);
const CHANNELS = ['web', 'phone', 'mail', 'in person', 'chat'];
const CASE_TYPES = Array.from({ length: 20 }, (_, i) => `type-${i}`);

const dir = mkdtempSync(path.join(tmpdir(), 'kpi-filter-bench-'));
const database = await openDatabase(path.join(dir, 'metrics.db'));
await migrateToLatest(database);
const pubsub = createEventBus();
const now = () => END;
const services = {
  config: loadConfig({ DATABASE_URL: ':memory:' }),
  database,
  db: database.db,
  pubsub,
  recorder: new Recorder(database, pubsub, now),
  now,
} satisfies Partial<Services> as Services;
const caller: Caller = { keyId: null, role: 'VIEWER', programIds: null };
const ctx = (): Context => ({ services, caller, loaders: createLoaders(services) });

for (const id of ['WITH', 'WITHOUT']) {
  await insertProgram(database.db, { id, name: id, timezone: 'America/New_York', created_at: 0 });
}
await insertDimensions(
  database.db,
  'WITH',
  [
    { key: 'office', label: 'Office', maxValues: 1000 },
    { key: 'channel', label: 'Channel', maxValues: 1000 },
    { key: 'case_type', label: 'Case type', maxValues: 1000 },
  ],
  0,
  0,
);

function batch(programId: string, start: number, attributes: boolean): ValidEvent[] {
  return Array.from({ length: BATCH }, (_, j) => {
    const i = start + j;
    const kind = i % 5 === 4 ? 'SATISFACTION' : i % 9 === 8 ? 'CONFLICT' : 'RESOLUTION_TIME';
    const office = OFFICES[(i * 7) % 50];
    return {
      kind,
      programId,
      caseId: `c${i}`,
      value: kind === 'SATISFACTION' ? 1 + (i % 5) : kind === 'CONFLICT' ? null : 1 + ((i * 13) % 40) / 3,
      reason: null,
      occurredAt: FROM + Math.floor((i / EVENTS) * 365 * DAY),
      occurredAtGiven: true,
      idempotencyKey: null,
      attributes: attributes
        ? encodeAttributes([
            { key: 'office', value: office },
            { key: 'channel', value: CHANNELS[i % 5] },
            { key: 'case_type', value: CASE_TYPES[(i * 3) % 20] },
          ])
        : null,
    };
  });
}

async function ingest(programId: string, attributes: boolean): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH)
    await services.recorder.record(batch(programId, i, attributes), { keyId: null, indexed: true });
  return EVENTS / ((performance.now() - started) / 1000);
}

const withoutRate = await ingest('WITHOUT', false);
const withRate = await ingest('WITH', true);

async function measure(run: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(ROUNDS / 2)], p95: times[Math.ceil(0.95 * ROUNDS) - 1] };
}

const args = (filter?: { key: string; values: string[] }[]) => ({
  programId: 'WITH',
  from: FROM,
  to: END,
  granularity: 'DAY' as const,
  filter,
});
async function dashboard(filter?: { key: string; values: string[] }[]) {
  const c = ctx();
  const scope = await resolveScope(c, args(filter), END);
  await Promise.all([dashboardTotals(c, scope), dashboardSeries(c, scope)]);
}
async function breakdownBy(series: boolean) {
  const c = ctx();
  const scope = await resolveScope(c, args(), END);
  const rows = await dashboardBreakdown(c, scope, {
    by: 'office',
    orderBy: 'AVG_RESOLUTION_TIME',
    descending: true,
    limit: 50,
  });
  if (series) await Promise.all(rows.map((r) => r.series()));
}
/** What a service without rollups would run: one GROUP BY over the year's raw events, per day. */
async function naive() {
  await sql`select occurred_at / 86400000 as day, kind, count(*), sum(value) from events
    where program_id = 'WITH' and occurred_at >= ${FROM} and occurred_at < ${END} and retracted_at is null
    group by 1, 2`.execute(database.db);
}

const results: [string, { p50: number; p95: number }][] = [
  ['year DAY dashboard, no filter', await measure(() => dashboard())],
  [
    'year DAY dashboard, office = one value (value rollups)',
    await measure(() => dashboard([{ key: 'office', values: ['office-3'] }])),
  ],
  [
    'year DAY dashboard, office and channel (raw events in range)',
    await measure(() =>
      dashboard([
        { key: 'office', values: ['office-3'] },
        { key: 'channel', values: ['web'] },
      ]),
    ),
  ],
  ['breakdown by office, 50 rows, totals only', await measure(() => breakdownBy(false))],
  ['breakdown by office, 50 rows with 365-point series', await measure(() => breakdownBy(true))],
  ['naive GROUP BY over the raw events (per day and kind)', await measure(naive)],
];
const baseline = results[results.length - 1][1].p95;
console.log(`\n${EVENTS} events a program (one year, America/New_York), SQLite file, ${ROUNDS} rounds each\n`);
console.log('| read | p50 ms | p95 ms | p95 / naive GROUP BY |\n| --- | ---: | ---: | ---: |');
for (const [name, r] of results)
  console.log(`| ${name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${(r.p95 / baseline).toFixed(2)}x |`);
console.log(
  `\ningestion in batches of ${BATCH}: ${Math.round(withoutRate)} events/s without attributes, ${Math.round(withRate)} with 3 (${(withRate / withoutRate).toFixed(2)}x)`,
);
await services.recorder.close();
await database.close();
rmSync(dir, { recursive: true, force: true });
