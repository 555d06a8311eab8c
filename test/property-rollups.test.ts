/**
 * The rollups against a plain recomputation: over random events (late, duplicated, retracted),
 * programs in random zones, and random dashboards (scope, range at any millisecond, granularity,
 * zone), every KPI and every series point read through the dashboard service equals what a naive
 * pass over the raw events gives, and every series bucket starts where the bucket rule (README,
 * "Dashboards") says, checked with Intl alone. Runs at the service level on one long-lived database
 * and process: each dataset has its own programs and reads through a key limited to them, and its
 * queries are interleaved with its records and retractions, so calendar caches warmed by earlier
 * datasets and queries are always in play. A failure prints fast-check's seed; FC_SEED=<seed>
 * replays the run (the whole sequence, as the server is shared).
 * Events carry random attributes of two dimensions, and dashboards take random filters (none, one
 * key, several keys, a key twice) and breakdowns (by either dimension or by program), so the value
 * rollups, the null row and the raw path of combinations are held to the same naive answer.
 * Programs have random service standards (or none), changed between steps (updateProgram), so
 * WITHIN_STANDARD is held to each event judged against its own program's standard of the moment.
 * On PostgreSQL each recording step and the retractions run while another connection holds the
 * first few shards of the all-programs rollups, as writers on other instances would, so the writes
 * land on every shard and the all-programs answers sum them.
 */
import fc from 'fast-check';
import pg from 'pg';
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
import { openDatabase, programLockKey } from '../src/db/database.js';
import { encodeAttributes } from '../src/events/attributes.js';
import { insertDimensions } from '../src/programs/dimensions.repository.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { EventKind } from '../src/db/types.js';
import { Recorder } from '../src/write/record.service.js';
import type { ValidEvent } from '../src/events/validate.js';
import { ALL_PROGRAMS, ALL_PROGRAMS_SHARDS } from '../src/kpis/rollup-levels.js';
import { KPIS, type KpiInputs, type KpiKey } from '../src/kpis/registry.js';
import { RowAnswers } from '../src/kpis/row-answers.js';
import { DAY, GRANULARITIES, HOUR, MINUTE, type Granularity } from '../src/kpis/time.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { updateProgram } from '../src/programs/program-update.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { freshDatabaseUrl } from './helpers/app.js';
import { runDatabaseUrl } from './helpers/global-setup.js';

/**
 * Whole-hour, half-hour and 45-minute offsets, with and without DST (Lord Howe shifts by 30
 * minutes); midnights that repeat (Havana) or are skipped (Santiago), a skipped day (Apia, 2011),
 * Ramadan breaks (Casablanca), and the westernmost offset (Etc/GMT+12).
 */
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
  'America/Havana',
  'Pacific/Apia',
  'Africa/Casablanca',
  'Etc/GMT+12',
];
/**
 * Each dataset lives in a 60-day window that crosses clock changes: Apia's skipped day (December
 * 2011), March–April 2024 (Santiago, Casablanca, Havana, St John's, Chatham, Lord Howe), Santiago's
 * skipped midnight (September 2024), the southern spring and northern autumn of 2024 and of 2026
 * (Havana's repeated midnight on 1 November 2026), and a quiet January.
 */
const WINDOW_STARTS = [
  Date.UTC(2011, 11, 1),
  Date.UTC(2024, 2, 1, 7, 13),
  Date.UTC(2024, 7, 15),
  Date.UTC(2024, 8, 20),
  Date.UTC(2026, 8, 20),
  Date.UTC(2023, 11, 31, 22, 30),
];
const WINDOW = 60 * DAY;
/** At least 2,000 dashboards on either database. */
const POSTGRES = process.env.TEST_DB === 'postgres';
const DATASETS = POSTGRES ? 50 : 60;
const QUERIES_PER_DATASET = 40;
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED);

/** Large values beside small ones, so that retracting the large leaves the small to be exact. */
const days = fc.oneof(
  fc.constantFrom(0, 1, 2, 5, 7, 36_500, 0.0001, 0.1, 0.2, 0.3),
  fc.double({ min: 0, max: 36_500, noNaN: true }),
  fc.double({ min: 1e-9, max: 30, noNaN: true }),
  fc.double({ min: 10_000, max: 36_500, noNaN: true }),
  fc.integer({ min: 0, max: 60 }),
);
/** Service standards: none, a value events often take (ties count as within), or any. */
const standard = fc.oneof(
  fc.constant(null),
  fc.constantFrom(0, 1, 2, 5, 7, 30, 0.1, 36_500),
  fc.double({ min: 0, max: 36_500, noNaN: true }),
);
const score = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.double({ min: 1, max: 5, noNaN: true }));
/**
 * An instant of the window: any millisecond, one on a quarter-hour (where bucket edges of every
 * zone fall), or one within a millisecond of a clock change or of a quarter-hour near one (see
 * nearChanges): resolved against the window in checkDataset.
 */
interface Near {
  near: number;
  jitter: number;
}
type Instant = { any: number } | Near;
const near: fc.Arbitrary<Near> = fc.record({ near: fc.nat(), jitter: fc.constantFrom(-1, 0, 1) });
const instant: fc.Arbitrary<Instant> = fc.oneof(
  fc.integer({ min: 0, max: WINDOW - 1 }).map((any) => ({ any })),
  fc.integer({ min: 0, max: WINDOW / (15 * MINUTE) - 1 }).map((q) => ({ any: q * 15 * MINUTE })),
  near,
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
      at: instant,
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

/** The first n shards held by another writer: the writes of a step land on shard n. */
const shardsHeld = fc.integer({ min: 0, max: ALL_PROGRAMS_SHARDS.length - 1 });

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
      // `held`: how many of the all-programs shards another writer holds meanwhile (PostgreSQL).
      steps: fc.array(fc.record({ size: fc.integer({ min: 1, max: 40 }), batch: fc.boolean(), held: shardsHeld }), {
        minLength: 1,
        maxLength: 6,
      }),
      retractHeld: shardsHeld,
      retract: fc.array(fc.nat(), { maxLength: 12 }),
      standards: fc.array(standard, { minLength: zones.length, maxLength: zones.length }),
      // Standards changed after a recording step (or after the retractions: step past the last).
      restandard: fc.array(fc.record({ program: fc.nat(), standard, step: fc.nat() }), { maxLength: 3 }),
      // Then every resolution time of 10,000 days or more, which leaves the small ones beside them.
      retractLarge: fc.boolean(),
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
  /** When it is asked: after which recording step, or after the retractions. */
  phase: number;
  from: number | null;
  /** A moment near a clock change instead of `from`. */
  fromNear: Near | null;
  /** A moment near a clock change, instead of `from` plus `length`. */
  to: Near | null;
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
  phase: fc.nat(),
  from: fc.option(fc.integer({ min: -2 * DAY, max: WINDOW + DAY }), { nil: null, freq: 8 }),
  fromNear: fc.oneof({ arbitrary: fc.constant(null), weight: 2 }, { arbitrary: near, weight: 1 }),
  to: fc.oneof({ arbitrary: fc.constant(null), weight: 3 }, { arbitrary: near, weight: 1 }),
  length: fc.oneof(fc.integer({ min: 1, max: 3 * HOUR }), fc.integer({ min: 1, max: WINDOW + 2 * DAY })),
  toOpen: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  granularity: fc.constantFrom(...GRANULARITIES),
  zone: fc.option(fc.constantFrom(...ZONES), { nil: null, freq: 2 }),
  filter: fc.oneof(fc.constant<{ key: DimensionKey; values: string[] }[]>([]), genFilter),
  by: fc.constantFrom<DimensionKey | 'program' | null>(null, null, 'office', 'channel', 'program'),
  breakdownSeries: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
});

/**
 * Another writer, as far as the all-programs shards go: a connection of its own that holds the
 * first `n` shards' locks (session locks, which the service's transaction locks wait for or skip).
 */
interface ShardHolder {
  hold(n: number): Promise<void>;
  release(): Promise<void>;
  close(): Promise<void>;
}

async function shardHolder(schema: string | null): Promise<ShardHolder> {
  if (!POSTGRES) return { hold: async () => {}, release: async () => {}, close: async () => {} };
  const client = new pg.Client({ connectionString: runDatabaseUrl() }); // advisory locks are per database
  await client.connect();
  return {
    async hold(n) {
      for (const key of ALL_PROGRAMS_SHARDS.slice(0, n))
        await client.query('select pg_advisory_lock(hashtext($1))', [programLockKey(schema, key)]);
    },
    release: async () => void (await client.query('select pg_advisory_unlock_all()')),
    close: () => client.end(),
  };
}

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

/** Every program's service standard of the moment, as the test set it (absent: none). */
const standardOf = new Map<string, number | null>();

/** What the contract says each KPI is, computed from the raw values with no rollup in sight. */
function naive(values: { kind: EventKind; value: number | null; programId: string }[]) {
  const judged = values.flatMap((e) => {
    const std = standardOf.get(e.programId) ?? null;
    return e.kind === 'RESOLUTION_TIME' && std !== null ? [e.value! <= std] : [];
  });
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
    WITHIN_STANDARD: judged.length ? (100 * judged.filter(Boolean).length) / judged.length : null,
  };
  return { kpis, resolvedCases: res.length, satisfactionResponses: sat.length };
}

const PERCENTILES = new Set<KpiKey>(['MEDIAN_RESOLUTION_TIME', 'P90_RESOLUTION_TIME']);
const MEANS: Partial<Record<KpiKey, EventKind>> = {
  AVG_RESOLUTION_TIME: 'RESOLUTION_TIME',
  AVG_SATISFACTION: 'SATISFACTION',
};

/** A non-negative double times 2^1074, exactly (every double is an integer multiple of 2^-1074). */
const bits = new DataView(new ArrayBuffer(8));
function scaled(v: number): bigint {
  bits.setFloat64(0, v);
  const hi = bits.getUint32(0);
  const exponent = (hi >>> 20) & 0x7ff;
  const mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(bits.getUint32(4));
  return exponent === 0 ? mantissa : (mantissa | (1n << 52n)) << BigInt(exponent - 1);
}
const bitLength = (n: bigint) => n.toString(2).length;

/** The exact mean of doubles, rounded once to the nearest double (ties to even); 0 for none. */
function exactMean(values: number[]): number {
  const sum = values.reduce((a, v) => a + scaled(v), 0n);
  if (sum === 0n) return 0;
  const count = BigInt(values.length);
  // A quotient of at least 60 bits, then 55: 53 kept, a rounding bit and a sticky bit for the rest.
  const shift = Math.max(0, 60 - (bitLength(sum) - bitLength(count)));
  let q = (sum << BigInt(shift)) / count;
  let sticky = (sum << BigInt(shift)) % count !== 0n;
  const drop = bitLength(q) - 55;
  if (drop > 0) {
    sticky ||= (q & ((1n << BigInt(drop)) - 1n)) !== 0n;
    q >>= BigInt(drop);
  }
  if (sticky) q |= 1n;
  const exponent = Math.max(0, drop) - shift - 1074;
  const partial = Math.max(exponent, -1000);
  return Number(q) * 2 ** partial * 2 ** (exponent - partial);
}

/**
 * Null where the naive answer is null; counts exact; means equal to the exact mean of the values,
 * rounded once (a target equal to it is met) and to the naive one to 1e-12; percentiles within 1%.
 */
function expectSame(aggregate: KpiInputs, raw: ValidEvent[], where: string) {
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
    const tolerance = PERCENTILES.has(k.key) ? 0.01 * Math.abs(want) + 1e-12 : 1e-12 * Math.max(1e-300, Math.abs(want));
    if (Math.abs(got - want) > tolerance) expect(got, `${where} ${k.key}`).toBe(want);
    if (k.key === 'WITHIN_STANDARD') checked.withinStandard++;
    const kind = MEANS[k.key];
    if (kind) {
      const exact = exactMean(raw.filter((e) => e.kind === kind).map((e) => e.value!));
      // Below the normal range the oracle's own last rounding is not exact.
      if (exact >= 2 ** -1000 && got !== exact) expect(got, `${where} ${k.key}: the exact mean`).toBe(exact);
    }
  }
}

/** Local wall-clock fields by Intl alone, independent of the service's time module. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(t: number, zone: string) {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const f = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of format.formatToParts(t)) if (part.type in f) f[part.type as keyof typeof f] = Number(part.value);
  const ms = ((t % 1000) + 1000) % 1000;
  const wall = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second, ms);
  return { ...f, ms, wall, offset: wall - t, dayNumber: Date.UTC(f.year, f.month - 1, f.day) / DAY };
}
type Wall = ReturnType<typeof wallClock>;

/** Which local date unit an instant is in, as a number that grows with time. */
function unitOf(w: Wall, granularity: Exclude<Granularity, 'HOUR'>): number {
  if (granularity === 'DAY') return w.dayNumber;
  // 1970-01-01 was a Thursday; weeks start on Monday.
  if (granularity === 'WEEK') return Math.floor((w.dayNumber + 3) / 7);
  if (granularity === 'MONTH') return w.year * 12 + w.month - 1;
  if (granularity === 'QUARTER') return w.year * 4 + Math.floor((w.month - 1) / 3);
  return w.year;
}

/**
 * The series' bucket starts follow the rule: each day-or-longer bucket starts at the first instant of
 * its local unit (a new unit that the instant before does not read, at local midnight of its first
 * day or at a clock change that skipped it) and no other unit starts before the next bucket; each
 * hour bucket starts where the clock reads hh:00 and no instant inside it does.
 */
function expectBucketRule(starts: number[], end: number, granularity: Granularity, zone: string, where: string) {
  for (const [i, start] of starts.entries()) {
    const next = i + 1 < starts.length ? starts[i + 1] : end;
    const at = wallClock(start, zone);
    const before = wallClock(start - 1, zone);
    if (granularity === 'HOUR') {
      expect([at.minute, at.second, at.ms], `${where} bucket ${i} starts at hh:00`).toEqual([0, 0, 0]);
      for (const offset of new Set([at.offset, wallClock(next - 1, zone).offset])) {
        for (let u = start + HOUR - ((((start + offset) % HOUR) + HOUR) % HOUR); u < next; u += HOUR) {
          if (u <= start) continue;
          const w = wallClock(u, zone);
          expect(
            w.offset === offset && w.minute === 0 && w.second === 0,
            `${where} bucket ${i} holds hh:00 at ${u}`,
          ).toBe(false);
        }
      }
      continue;
    }
    const unit = unitOf(at, granularity);
    expect(unit, `${where} bucket ${i} starts a new ${granularity}`).toBeGreaterThan(unitOf(before, granularity));
    const midnight = at.hour === 0 && at.minute === 0 && at.second === 0 && at.ms === 0;
    const firstDay = unitOf(wallClock(start - 1, zone), 'DAY') < at.dayNumber;
    expect(midnight || at.offset !== before.offset, `${where} bucket ${i} starts at midnight or a clock change`).toBe(
      true,
    );
    expect(firstDay, `${where} bucket ${i} starts on a new day`).toBe(true);
    expect(
      unitOf(wallClock(next - 1, zone), granularity),
      `${where} bucket ${i} ends in its own unit`,
    ).toBeLessThanOrEqual(unit);
  }
}

/**
 * Instants near every clock change of every zone in the window (found with Intl: hourly offsets,
 * bisected), each change and the quarter-hours within an hour of it: where buckets begin and end.
 */
const nearChangesOf = new Map<number, number[]>();
function nearChanges(windowStart: number): number[] {
  let found = nearChangesOf.get(windowStart);
  if (found) return found;
  const instants = new Set<number>();
  for (const zone of ZONES) {
    const offset = (t: number) => wallClock(t, zone).offset;
    for (let t = windowStart - DAY; t < windowStart + WINDOW + DAY; t += HOUR) {
      if (offset(t) === offset(t + HOUR)) continue;
      let lo = t;
      let hi = t + HOUR;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offset(mid) === offset(lo)) lo = mid;
        else hi = mid;
      }
      for (let k = -4; k <= 4; k++) instants.add(hi + k * 15 * MINUTE);
    }
  }
  found = [...instants].sort((a, b) => a - b);
  nearChangesOf.set(windowStart, found);
  return found;
}

/** Every live event recorded so far, of every dataset, by id: what an unrestricted key sees. */
type Recorded = Map<number, ValidEvent>;

/** Records one dataset under fresh programs in steps, asking its queries between them, then retracts. */
async function checkDataset(
  services: Services,
  shards: ShardHolder,
  recorded: Recorded,
  prefix: string,
  data: Dataset,
  queries: Query[],
): Promise<void> {
  const { db, recorder } = services;
  const now = services.now();
  const programs = data.zones.map((timezone, i) => ({ id: `${prefix}p${i}`, name: `P${i}`, timezone, created_at: 0 }));
  for (const [i, program] of programs.entries()) {
    await insertProgram(db, { ...program, resolution_standard_days: data.standards[i] });
    standardOf.set(program.id, data.standards[i]);
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
  const changes = nearChanges(data.windowStart);
  const resolve = (at: Instant) =>
    'any' in at
      ? data.windowStart + at.any
      : changes.length > 0
        ? changes[at.near % changes.length] + at.jitter
        : data.windowStart;

  const valid = data.events.map(
    (e, i): ValidEvent => ({
      kind: e.kind,
      programId: `${prefix}p${e.program}`,
      caseId: `c${i}`,
      value: e.value,
      reason: null,
      occurredAt: resolve(e.at),
      occurredAtGiven: true,
      idempotencyKey: e.keyed ? `k${i}` : null,
      attributes: encodeAttributes([
        ...(e.office === null ? [] : [{ key: 'office', value: e.office }]),
        ...(e.channel === null ? [] : [{ key: 'channel', value: e.channel }]),
      ]),
    }),
  );
  /** This dataset's live events, by their index in `valid`. */
  const live = new Map<number, ValidEvent>();
  const phases = data.steps.length + 3;
  const ask = async (phase: number) => {
    for (const q of queries) if (q.phase % phases === phase) await checkQuery(q);
  };

  async function checkQuery(q: Query) {
    const programId = q.program === null ? null : programs[q.program % programs.length].id;
    const unrestricted = programId === null && q.unrestricted;
    const from = q.fromNear !== null ? resolve(q.fromNear) : q.from === null ? null : data.windowStart + q.from;
    let to = q.toOpen ? null : q.to !== null ? resolve(q.to) : (from ?? data.windowStart) + q.length;
    if (from !== null && to !== null && to <= from) to = from + q.length;
    // Hours only for ranges that fit the bucket limit (an open range of every dataset may not).
    const hoursFit = from !== null && to !== null ? to - from <= 1_900 * HOUR : !unrestricted;
    // An open range of every dataset spans their windows, 2011 to 2026: weeks at the finest.
    const everyWindow = unrestricted && (from === null || to === null);
    const granularity =
      everyWindow && (q.granularity === 'HOUR' || q.granularity === 'DAY')
        ? 'WEEK'
        : q.granularity === 'HOUR' && !hoursFit
          ? 'DAY'
          : q.granularity;
    const args: DashboardArgs = { programId, from, to, granularity, timezone: q.zone, filter: q.filter };
    // A context per query, as per request: its loaders remember what they read only for the request.
    const reader = contextFor(services, unrestricted ? null : programs.map((p) => p.id));
    const scope = await resolveScope(reader, args, now);
    expect(scope.everyProgram).toBe(unrestricted);
    const inScope = (unrestricted ? [...recorded.values()] : [...live.values()]).filter(
      (e) => (programId === null || e.programId === programId) && matches(e, q.filter),
    );
    const where = JSON.stringify({ ...args, unrestricted });

    const between = (start: number, end: number) => inScope.filter((e) => e.occurredAt >= start && e.occurredAt < end);
    expectSame(await dashboardTotals(reader, scope), between(from ?? -Infinity, to ?? Infinity), `${where} totals`);
    const series = await dashboardSeries(reader, scope).catch((error) => {
      throw new Error(`${where} range ${JSON.stringify(scope.range)}: ${error}`);
    });
    for (const [i, point] of series.entries()) {
      if (point.aggregate instanceof RowAnswers) checked.answeredPoints++;
      const end = i + 1 < series.length ? series[i + 1].start : scope.range!.end;
      expectSame(point.aggregate, between(Math.max(point.start, scope.range!.start), end), `${where} point ${i}`);
    }
    if (series.length > 0) {
      expect(series[0].start).toBeLessThanOrEqual(scope.range!.start);
      if (series.length > 1) expect(series[1].start).toBeGreaterThan(scope.range!.start);
      expect(between(scope.range!.start, scope.range!.end).length).toBe(
        between(from ?? -Infinity, to ?? Infinity).length,
      );
      expectBucketRule(
        series.map((p) => p.start),
        scope.range!.end,
        scope.granularity,
        scope.timezone,
        where,
      );
    }
    if (q.filter.length > 0) checked.filtered += new Set(q.filter.map((f) => f.key)).size > 1 ? 0 : 1;
    if (new Set(q.filter.map((f) => f.key)).size > 1) checked.combinations++;
    if (q.by !== null) await checkBreakdown(reader, scope, q, inScope, where);
  }

  // Record in steps, in generated order (so events arrive late), resending some with the same key;
  // this dataset's queries are asked between the steps.
  const ids: number[] = [];
  const settle = (from: number) => {
    for (let i = from; i < ids.length; i++) {
      live.set(i, valid[i]);
      recorded.set(ids[i], valid[i]);
    }
  };
  let next = 0;
  await ask(0);
  for (const [s, step] of data.steps.entries()) {
    const part = valid.slice(next, next + step.size);
    const resent = data.resend.map((n) => valid[n % Math.max(1, next + part.length)]).filter((e) => e?.idempotencyKey);
    next += part.length;
    await shards.hold(step.held);
    const outcomes = step.batch
      ? [await recorder.record([...part, ...resent], { keyId: null, indexed: true })]
      : await Promise.all([...part, ...resent].map((e) => recorder.record([e], { keyId: null })));
    await shards.release();
    const settled = ids.length;
    for (const outcome of outcomes) for (const r of outcome.results) if (!r.duplicate) ids.push(r.event.id);
    settle(settled);
    await restandard(s);
    await ask(s + 1);
  }
  if (next < valid.length) {
    const settled = ids.length;
    const outcome = await recorder.record(valid.slice(next), { keyId: null, indexed: true });
    for (const r of outcome.results) if (!r.duplicate) ids.push(r.event.id);
    settle(settled);
  }
  expect(ids.length).toBe(valid.length);

  async function restandard(step: number) {
    for (const change of data.restandard) {
      if (change.step % (data.steps.length + 1) !== step) continue;
      const program = programs[change.program % programs.length];
      await updateProgram(services.database, program, { resolutionStandardDays: change.standard });
      standardOf.set(program.id, change.standard);
      checked.standardChanges++;
    }
  }

  const retract = async (indexes: Iterable<number>) => {
    for (const i of indexes) {
      if (!live.has(i)) continue;
      await recorder.retract(ids[i], () => true);
      live.delete(i);
      recorded.delete(ids[i]);
    }
  };
  await shards.hold(data.retractHeld);
  await retract(data.retract.filter(() => ids.length > 0).map((n) => n % ids.length));
  await shards.release();
  await restandard(data.steps.length);
  await ask(data.steps.length + 1);
  if (data.retractLarge) {
    await retract(valid.flatMap((e, i) => (e.kind === 'RESOLUTION_TIME' && e.value! >= 10_000 ? [i] : [])));
  }
  await ask(data.steps.length + 2);
}

/** What the run held to the naive answer, so a generator that stops producing a case shows. */
const checked = {
  filtered: 0,
  combinations: 0,
  breakdownRows: 0,
  answeredPoints: 0,
  standardChanges: 0,
  withinStandard: 0,
};

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
      if (point.aggregate instanceof RowAnswers) checked.answeredPoints++;
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
    const shards = await shardHolder(services.database.schema);
    let datasets = 0;
    const recorded: Recorded = new Map();
    try {
      await fc.assert(
        fc.asyncProperty(
          genDataset,
          fc.array(genQuery, { minLength: QUERIES_PER_DATASET, maxLength: QUERIES_PER_DATASET }),
          async (data, queries) => {
            now.value = data.windowStart + data.now;
            await checkDataset(services, shards, recorded, `d${datasets++}`, data, queries);
          },
        ),
        // No shrinking: the server is shared, so a case replays only as part of the whole run (FC_SEED).
        { numRuns: DATASETS, endOnFailure: true, seed: SEED },
      );
      // The random steps need not draw every count of held shards: one write a count, each with
      // the shards before it held, makes sure every shard is offered one (PostgreSQL).
      if (POSTGRES) {
        await insertProgram(services.db, {
          id: 'shards',
          name: 'Shards',
          timezone: 'UTC',
          created_at: 0,
          resolution_standard_days: null,
        });
        for (let n = 0; n < ALL_PROGRAMS_SHARDS.length; n++) {
          await shards.hold(n);
          const event: ValidEvent = {
            kind: 'RESOLUTION_TIME',
            programId: 'shards',
            caseId: `s${n}`,
            value: 1,
            reason: null,
            occurredAt: now.value,
            occurredAtGiven: true,
            idempotencyKey: null,
            attributes: null,
          };
          await services.recorder.record([event], { keyId: null });
          await shards.release();
        }
      }
      // Every shard took writes on PostgreSQL; SQLite's one writer keeps to the first.
      const used = await services.db
        .selectFrom('rollups')
        .select('program_id')
        .distinct()
        .where('program_id', 'in', ALL_PROGRAMS_SHARDS)
        .execute();
      expect(used.length).toBe(POSTGRES ? ALL_PROGRAMS_SHARDS.length : 1);
      if (!POSTGRES) expect(used[0].program_id).toBe(ALL_PROGRAMS);
    } finally {
      await shards.close();
      await services.database.close();
    }
    expect(datasets * QUERIES_PER_DATASET).toBeGreaterThanOrEqual(2_000);
    expect(checked.filtered).toBeGreaterThan(100);
    expect(checked.combinations).toBeGreaterThan(100);
    expect(checked.breakdownRows).toBeGreaterThan(500);
    // Series points read as a stored row's answers (kpi.service.ts readSpanAnswers), not merged aggregates.
    expect(checked.answeredPoints).toBeGreaterThan(1_000);
    expect(checked.standardChanges).toBeGreaterThan(20);
    // A floor that says the path ran, not a promise: the count follows the random datasets (781 seen
    // once on PostgreSQL's 50 datasets against a usual count well above 1,000), so a fixed 1,000 failed by chance.
    expect(checked.withinStandard).toBeGreaterThan(300);
  }, 1_800_000);
});
