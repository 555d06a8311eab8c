/**
 * The rollups against a plain recomputation: over random events (late, duplicated, retracted),
 * programs in random zones, and random dashboards (scope, range at any millisecond, granularity,
 * zone), every KPI and every series point read through the dashboard service equals what a naive
 * pass over the raw events gives. Runs at the service level on one fresh database; each dataset has
 * its own programs and reads through a key limited to them, so all-programs dashboards see only it.
 * Events carry random attributes of two dimensions, and dashboards take random filters (none, one
 * key, several keys, a key twice) and breakdowns (by either dimension or by program), so the value
 * rollups, the null row and the raw path of combinations are held to the same naive answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../src/auth/caller.js';
import { loadConfig } from '../src/config.js';
import { createLoaders, type Context, type Services } from '../src/context.js';
import {
  dashboardSeries,
  dashboardTotals,
  resolveScope,
  type DashboardArgs,
  type DashboardScope,
} from '../src/dashboards/dashboard.service.js';
import { dashboardBreakdown } from '../src/dashboards/breakdown.js';
import { openDatabase } from '../src/db/database.js';
import { encodeAttributes } from '../src/events/attributes.js';
import { insertDimensions } from '../src/programs/dimensions.repository.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { EventKind } from '../src/db/types.js';
import { Recorder } from '../src/write/record.service.js';
import type { ValidEvent } from '../src/events/validate.js';
import type { Aggregate } from '../src/kpis/aggregate.js';
import { KPIS, type KpiKey } from '../src/kpis/registry.js';
import { DAY, GRANULARITIES, HOUR, MINUTE } from '../src/kpis/time.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { freshDatabaseUrl } from './helpers/app.js';

/** Whole-hour, half-hour and 45-minute offsets, with and without DST (Lord Howe shifts by 30 minutes). */
const ZONES = [
  'UTC',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Eucla',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
  'America/New_York',
  'Europe/London',
  'America/Santiago',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
];
/** Each dataset lives in a 60-day window that crosses DST changes in both hemispheres. */
const WINDOW_STARTS = [Date.UTC(2024, 2, 1, 7, 13), Date.UTC(2024, 8, 20), Date.UTC(2023, 11, 31, 22, 30)];
const WINDOW = 60 * DAY;
/** The PostgreSQL run of the suite repeats a smaller sample; SQLite runs the full 2,400 cases. */
const POSTGRES = process.env.TEST_DB === 'postgres';
const DATASETS = POSTGRES ? 20 : 60;
const QUERIES_PER_DATASET = 40;

const days = fc.oneof(
  fc.constantFrom(0, 1, 2, 5, 7, 36_500),
  fc.double({ min: 0, max: 36_500, noNaN: true }),
  fc.double({ min: 1e-9, max: 30, noNaN: true }),
  fc.integer({ min: 0, max: 60 }),
);
const score = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.double({ min: 1, max: 5, noNaN: true }));
/** Any millisecond, or one on a quarter-hour (where bucket edges of every zone fall). */
const offset = fc.oneof(
  fc.integer({ min: 0, max: WINDOW - 1 }),
  fc.integer({ min: 0, max: WINDOW / (15 * MINUTE) - 1 }).map((q) => q * 15 * MINUTE),
);
const DIMENSIONS = { office: ['a', 'b', 'c'], channel: ['x', 'y'] } as const;
type DimensionKey = keyof typeof DIMENSIONS;
const genFilter = fc.array(
  fc
    .constantFrom<DimensionKey>('office', 'channel')
    .chain((key) => fc.subarray([...DIMENSIONS[key]], { minLength: 1 }).map((values) => ({ key, values }))),
  { maxLength: 3 },
);
const genEvent = (programs: number) =>
  fc
    .record({
      program: fc.integer({ min: 0, max: programs - 1 }),
      kind: fc.constantFrom<EventKind>('RESOLUTION_TIME', 'RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'),
      value: fc.constant(null as number | null),
      offset,
      keyed: fc.boolean(),
      office: fc.option(fc.constantFrom(...DIMENSIONS.office), { nil: null, freq: 4 }),
      channel: fc.option(fc.constantFrom(...DIMENSIONS.channel), { nil: null, freq: 3 }),
    })
    .chain((e) =>
      (e.kind === 'RESOLUTION_TIME' ? days : e.kind === 'SATISFACTION' ? score : fc.constant(null)).map((value) => ({
        ...e,
        value,
      })),
    );

/** How the events reach the recorder: in steps, each a batch or concurrent single mutations, then retractions. */
type Dataset = typeof genDataset extends fc.Arbitrary<infer T> ? T : never;
const genDataset = fc
  .record({
    zones: fc.array(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 4 }),
    windowStart: fc.constantFrom(...WINDOW_STARTS),
  })
  .chain(({ zones, windowStart }) =>
    fc.record({
      zones: fc.constant(zones),
      windowStart: fc.constant(windowStart),
      events: fc.array(genEvent(zones.length), { maxLength: 120 }),
      steps: fc.array(fc.record({ size: fc.integer({ min: 1, max: 40 }), batch: fc.boolean() }), {
        minLength: 1,
        maxLength: 6,
      }),
      retract: fc.array(fc.nat(), { maxLength: 12 }),
      resend: fc.array(fc.nat(), { maxLength: 6 }),
      // The present: after every event, or inside the window, so that spans reaching it read their
      // last hour as the hour's rollup less the events after them (complementHour in kpi.service.ts).
      now: fc.oneof(fc.constant(WINDOW + HOUR), fc.integer({ min: 0, max: WINDOW })),
    }),
  );

interface Query {
  program: number | null;
  /** Read by a key that sees every program (of every dataset so far): the all-programs rollups. */
  unrestricted: boolean;
  from: number | null;
  length: number;
  toOpen: boolean;
  granularity: (typeof GRANULARITIES)[number];
  zone: string | null;
  filter: { key: DimensionKey; values: string[] }[];
  by: DimensionKey | 'program' | null;
  breakdownSeries: boolean;
}
const genQuery = fc.record({
  program: fc.option(fc.nat(), { nil: null, freq: 3 }),
  unrestricted: fc.boolean(),
  from: fc.option(fc.integer({ min: -2 * DAY, max: WINDOW + DAY }), { nil: null, freq: 8 }),
  length: fc.oneof(fc.integer({ min: 1, max: 3 * HOUR }), fc.integer({ min: 1, max: WINDOW + 2 * DAY })),
  toOpen: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  granularity: fc.constantFrom(...GRANULARITIES),
  zone: fc.option(fc.constantFrom(...ZONES), { nil: null, freq: 2 }),
  filter: fc.oneof(fc.constant<{ key: DimensionKey; values: string[] }[]>([]), genFilter),
  by: fc.constantFrom<DimensionKey | 'program' | null>(null, null, 'office', 'channel', 'program'),
  breakdownSeries: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

/** One database for the whole property; each dataset gets its own programs and a key limited to them. */
async function openServices(now: { value: number }): Promise<Services> {
  // In memory on SQLite: the same engine and queries, without a disk sync per commit.
  const database = await openDatabase(POSTGRES ? freshDatabaseUrl() : ':memory:');
  await migrateToLatest(database);
  const pubsub = createEventBus();
  const clock = () => now.value;
  return {
    config: loadConfig({ DATABASE_URL: ':memory:' }),
    database,
    db: database.db,
    pubsub,
    recorder: new Recorder(database, pubsub, clock),
    now: clock,
  } satisfies Partial<Services> as Services;
}

function contextFor(services: Services, programIds: string[] | null): Context {
  const caller: Caller = { keyId: null, role: 'VIEWER', programIds };
  return { services, caller, loaders: createLoaders(services) };
}

/** What the contract says each KPI is, computed from the raw values with no rollup in sight. */
function naive(values: { kind: EventKind; value: number | null }[]) {
  const res = values
    .filter((e) => e.kind === 'RESOLUTION_TIME')
    .map((e) => e.value!)
    .sort((a, b) => a - b);
  const sat = values.filter((e) => e.kind === 'SATISFACTION').map((e) => e.value!);
  const conflicts = values.filter((e) => e.kind === 'CONFLICT').length;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const nearestRank = (q: number) => (res.length ? res[Math.max(1, Math.ceil(q * res.length)) - 1] : null);
  const kpis: Record<KpiKey, number | null> = {
    AVG_RESOLUTION_TIME: res.length ? sum(res) / res.length : null,
    MEDIAN_RESOLUTION_TIME: nearestRank(0.5),
    P90_RESOLUTION_TIME: nearestRank(0.9),
    AVG_SATISFACTION: sat.length ? sum(sat) / sat.length : null,
    CSAT: sat.length ? (100 * sat.filter((s) => s >= 4).length) / sat.length : null,
    TOTAL_CONFLICTS: conflicts,
    CONFLICT_RATE: res.length ? (100 * conflicts) / res.length : null,
  };
  return { kpis, resolvedCases: res.length, satisfactionResponses: sat.length };
}

const PERCENTILES = new Set<KpiKey>(['MEDIAN_RESOLUTION_TIME', 'P90_RESOLUTION_TIME']);

/** Null where the naive answer is null; counts exact; means to fp tolerance; percentiles within 1%. */
function expectSame(aggregate: Aggregate, raw: { kind: EventKind; value: number | null }[], where: string) {
  const expected = naive(raw);
  expect(aggregate.resCount, `${where} resolvedCases`).toBe(expected.resolvedCases);
  expect(aggregate.satCount, `${where} satisfactionResponses`).toBe(expected.satisfactionResponses);
  for (const k of KPIS) {
    expect(k.key in expected.kpis, `the naive recomputation knows ${k.key}`).toBe(true);
    const got = k.compute(aggregate);
    const want = expected.kpis[k.key];
    if (want === null || got === null) {
      expect(got, `${where} ${k.key}`).toBe(want);
      continue;
    }
    const tolerance = PERCENTILES.has(k.key) ? 0.01 * Math.abs(want) + 1e-12 : 1e-9 * Math.max(1, Math.abs(want));
    if (Math.abs(got - want) > tolerance) expect(got, `${where} ${k.key}`).toBe(want);
  }
}

/** Records one dataset under fresh programs, then checks every query against the naive answer. */
/** Every live event recorded so far, of every dataset, by id: what an unrestricted key sees. */
type Recorded = Map<number, ValidEvent>;

async function checkDataset(
  services: Services,
  recorded: Recorded,
  prefix: string,
  data: Dataset,
  queries: Query[],
): Promise<void> {
  const { db, recorder } = services;
  const now = services.now();
  const programs = data.zones.map((timezone, i) => ({ id: `${prefix}p${i}`, name: `P${i}`, timezone, created_at: 0 }));
  for (const program of programs) {
    await insertProgram(db, program);
    await insertDimensions(
      db,
      program.id,
      [
        { key: 'office', label: 'Office', maxValues: 1000 },
        { key: 'channel', label: 'Channel', maxValues: 1000 },
      ],
      0,
      0,
    );
  }
  const ctx = contextFor(
    services,
    programs.map((p) => p.id),
  );
  const everyProgram = contextFor(services, null);

  const valid = data.events.map(
    (e, i): ValidEvent => ({
      kind: e.kind,
      programId: `${prefix}p${e.program}`,
      caseId: `c${i}`,
      value: e.value,
      reason: null,
      occurredAt: data.windowStart + e.offset,
      occurredAtGiven: true,
      idempotencyKey: e.keyed ? `k${i}` : null,
      attributes: encodeAttributes([
        ...(e.office === null ? [] : [{ key: 'office', value: e.office }]),
        ...(e.channel === null ? [] : [{ key: 'channel', value: e.channel }]),
      ]),
    }),
  );
  // Record in steps, in generated order (so events arrive late), resending some with the same key.
  const ids: number[] = [];
  let next = 0;
  for (const step of data.steps) {
    const part = valid.slice(next, next + step.size);
    const resent = data.resend.map((n) => valid[n % Math.max(1, next + part.length)]).filter((e) => e?.idempotencyKey);
    next += part.length;
    const outcomes = step.batch
      ? [await recorder.record([...part, ...resent], { keyId: null, indexed: true })]
      : await Promise.all([...part, ...resent].map((e) => recorder.record([e], { keyId: null })));
    for (const outcome of outcomes) for (const r of outcome.results) if (!r.duplicate) ids.push(r.event.id);
  }
  if (next < valid.length) {
    const outcome = await recorder.record(valid.slice(next), { keyId: null, indexed: true });
    for (const r of outcome.results) if (!r.duplicate) ids.push(r.event.id);
  }
  expect(ids.length).toBe(valid.length);
  const retracted = new Set(data.retract.filter(() => ids.length > 0).map((n) => n % ids.length));
  for (const i of retracted) await recorder.retract(ids[i], () => true);
  const live = valid.filter((_, i) => !retracted.has(i));
  for (const [i, id] of ids.entries()) {
    if (retracted.has(i)) recorded.delete(id);
    else recorded.set(id, valid[i]);
  }

  for (const q of queries) {
    const programId = q.program === null ? null : programs[q.program % programs.length].id;
    const unrestricted = programId === null && q.unrestricted;
    const from = q.from === null ? null : data.windowStart + q.from;
    const to = q.toOpen ? null : (from ?? data.windowStart) + q.length;
    // Hours only for ranges that fit the bucket limit (an open range of every dataset may not).
    const hoursFit = from !== null && to !== null ? to - from <= 1_900 * HOUR : !unrestricted;
    const granularity = q.granularity === 'HOUR' && !hoursFit ? 'DAY' : q.granularity;
    const args: DashboardArgs = { programId, from, to, granularity, timezone: q.zone, filter: q.filter };
    const reader = unrestricted ? everyProgram : ctx;
    const scope = await resolveScope(reader, args, now);
    expect(scope.everyProgram).toBe(unrestricted);
    const inScope = (unrestricted ? [...recorded.values()] : live).filter(
      (e) => (programId === null || e.programId === programId) && matches(e, q.filter),
    );
    const where = JSON.stringify({ ...args, unrestricted });

    const between = (start: number, end: number) => inScope.filter((e) => e.occurredAt >= start && e.occurredAt < end);
    expectSame(await dashboardTotals(reader, scope), between(from ?? -Infinity, to ?? Infinity), `${where} totals`);
    const series = await dashboardSeries(reader, scope);
    for (const [i, point] of series.entries()) {
      const end = i + 1 < series.length ? series[i + 1].start : scope.range!.end;
      expectSame(point.aggregate, between(Math.max(point.start, scope.range!.start), end), `${where} point ${i}`);
    }
    if (series.length > 0) {
      expect(series[0].start).toBeLessThanOrEqual(scope.range!.start);
      expect(between(scope.range!.start, scope.range!.end).length).toBe(
        between(from ?? -Infinity, to ?? Infinity).length,
      );
    }
    if (q.filter.length > 0) checked.filtered += new Set(q.filter.map((f) => f.key)).size > 1 ? 0 : 1;
    if (new Set(q.filter.map((f) => f.key)).size > 1) checked.combinations++;
    if (q.by !== null) await checkBreakdown(reader, scope, q, inScope, where);
  }
}

/** What the run held to the naive answer, so a generator that stops producing a case shows. */
const checked = { filtered: 0, combinations: 0, breakdownRows: 0 };

function attributesOf(e: ValidEvent): Record<string, string> {
  return e.attributes ? (JSON.parse(e.attributes) as Record<string, string>) : {};
}

function matches(e: ValidEvent, filter: Query['filter']): boolean {
  const a = attributesOf(e);
  return filter.every((f) => a[f.key] !== undefined && f.values.includes(a[f.key]));
}

/** Every row of a breakdown (totals, and series when asked) against the events of its value. */
async function checkBreakdown(reader: Context, scope: DashboardScope, q: Query, inScope: ValidEvent[], where: string) {
  const by = q.by!;
  const rows = await dashboardBreakdown(reader, scope, { by, orderBy: null, descending: true, limit: 1000 });
  const keyOf = (e: ValidEvent) => (by === 'program' ? e.programId : (attributesOf(e)[by] ?? null));
  const inRange = scope.range
    ? inScope.filter((e) => e.occurredAt >= scope.range!.start && e.occurredAt < scope.range!.end)
    : [];
  const expected =
    by === 'program'
      ? scope.range
        ? scope.programs.map((p) => p.id).sort()
        : []
      : [...new Set(inRange.map(keyOf))].sort((a, b) =>
          a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
        );
  expect(
    rows.map((r) => r.value),
    `${where} breakdown by ${by}`,
  ).toEqual(expected);
  checked.breakdownRows += rows.length;
  for (const row of rows) {
    const mine = inRange.filter((e) => keyOf(e) === row.value);
    expectSame(row.aggregate, mine, `${where} breakdown ${by}=${row.value}`);
    if (!q.breakdownSeries) continue;
    const points = await row.series();
    for (const [i, point] of points.entries()) {
      const end = i + 1 < points.length ? points[i + 1].start : scope.range!.end;
      const start = Math.max(point.start, scope.range!.start);
      expectSame(
        point.aggregate,
        mine.filter((e) => e.occurredAt >= start && e.occurredAt < end),
        `${where} breakdown ${by}=${row.value} point ${i}`,
      );
    }
  }
}

describe('rollups against raw events (property)', () => {
  it(`answer every KPI and series point like a naive recomputation (${DATASETS} datasets × ${QUERIES_PER_DATASET} dashboards)`, async () => {
    const now = { value: 0 };
    const services = await openServices(now);
    let datasets = 0;
    const recorded: Recorded = new Map();
    try {
      await fc.assert(
        fc.asyncProperty(
          genDataset,
          fc.array(genQuery, { minLength: QUERIES_PER_DATASET, maxLength: QUERIES_PER_DATASET }),
          async (data, queries) => {
            now.value = data.windowStart + data.now;
            await checkDataset(services, recorded, `d${datasets++}`, data, queries);
          },
        ),
        { numRuns: DATASETS, endOnFailure: true },
      );
    } finally {
      await services.database.close();
    }
    expect(datasets * QUERIES_PER_DATASET).toBeGreaterThanOrEqual(POSTGRES ? 800 : 2_000);
    expect(checked.filtered).toBeGreaterThan(100);
    expect(checked.combinations).toBeGreaterThan(100);
    expect(checked.breakdownRows).toBeGreaterThan(500);
  }, 300_000);
});
