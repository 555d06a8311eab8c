/**
 * Impact's intervals from the rollups against the same intervals from the raw events: over random
 * events (with attributes of two dimensions, some stamped up to 5 minutes ahead of now), programs
 * in random zones with and without a service standard, annotations at any millisecond (some still
 * ahead), random `days` and random filters (none, one key, two keys), every row of `impact` equals
 * what a naive pass over the raw events gives, to 1e-9: the values, the change, the interval and
 * whether it excludes 0. Runs through the real query on one long-lived app; a failure prints
 * fast-check's seed, and FC_SEED=<seed> replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Interval95, newcombeInterval, welchInterval } from '../src/kpis/intervals.js';
import {
  CreateAnnotationDocument,
  CreateProgramDocument,
  type EventInput,
  ImpactDocument,
  RecordEventsDocument,
} from './generated/operations.js';
import { iso, testApp } from './helpers/app.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const NOW = Date.UTC(2026, 2, 15, 12, 0, 0, 0);
const ZONES = ['UTC', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'Pacific/Chatham'];
const OFFICES = ['north', 'south', 'east'];
const CHANNELS = ['web', 'phone'];

interface RawEvent {
  kind: 'RESOLUTION_TIME' | 'SATISFACTION' | 'CONFLICT';
  value: number | null;
  at: number;
  attributes: Record<string, string>;
}

const eventArb = fc.record({
  kind: fc.constantFrom('RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT') as fc.Arbitrary<RawEvent['kind']>,
  days: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 400, noNaN: true })),
  score: fc.integer({ min: 1, max: 5 }),
  // Most events near the annotations, some ahead of now (up to 5 minutes, as the service allows).
  at: fc.oneof(
    { weight: 9, arbitrary: fc.integer({ min: NOW - 25 * DAY, max: NOW }) },
    { weight: 1, arbitrary: fc.integer({ min: NOW, max: NOW + 5 * MINUTE }) },
  ),
  office: fc.option(fc.constantFrom(...OFFICES)),
  channel: fc.option(fc.constantFrom(...CHANNELS)),
});

const filterArb = fc.oneof(
  fc.constant([] as { key: string; values: string[] }[]),
  fc.subarray(OFFICES, { minLength: 1 }).map((values) => [{ key: 'office', values }]),
  fc
    .tuple(fc.subarray(OFFICES, { minLength: 1 }), fc.subarray(CHANNELS, { minLength: 1 }))
    .map(([offices, channels]) => [
      { key: 'office', values: offices },
      { key: 'channel', values: channels },
    ]),
);

const questionArb = fc.record({
  at: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: NOW - 20 * DAY, max: NOW }) },
    // Still ahead (up to the 5 minutes allowed): an empty after side.
    { weight: 1, arbitrary: fc.integer({ min: NOW, max: NOW + 5 * MINUTE }) },
  ),
  days: fc.integer({ min: 1, max: 12 }),
  filter: filterArb,
});

const datasetArb = fc.record({
  zone: fc.constantFrom(...ZONES),
  standard: fc.option(fc.constantFrom(0, 3, 7.5, 30)),
  events: fc.array(eventArb, { minLength: 0, maxLength: 120 }),
  questions: fc.array(questionArb, { minLength: 1, maxLength: 4 }),
});

/** The naive answer: the events of each side, then every KPI from them. */
function naive(events: RawEvent[], standard: number | null, from: number, to: number) {
  const res = events.filter((e) => e.kind === 'RESOLUTION_TIME' && e.at >= from && e.at < to).map((e) => e.value!);
  const sat = events.filter((e) => e.kind === 'SATISFACTION' && e.at >= from && e.at < to).map((e) => e.value!);
  const conflicts = events.filter((e) => e.kind === 'CONFLICT' && e.at >= from && e.at < to).length;
  return { res, sat, conflicts, any: res.length + sat.length + conflicts > 0, standard };
}
type Side = ReturnType<typeof naive>;

const mean = (x: number[]) => (x.length ? x.reduce((s, v) => s + v, 0) / x.length : null);
function variance(x: number[]) {
  if (x.length < 2) return null;
  const m = mean(x)!;
  return x.reduce((s, v) => s + (v - m) ** 2, 0) / (x.length - 1);
}
const sample = (x: number[]) => ({ n: x.length, mean: mean(x), variance: variance(x) });
const within = (s: Side) => (s.standard === null ? 0 : s.res.filter((v) => v <= s.standard!).length);
const judged = (s: Side) => (s.standard === null ? 0 : s.res.length);
const pct = (part: number, whole: number) => (whole > 0 ? (100 * part) / whole : null);
const scaled = (i: Interval95 | null) => i && { low: 100 * i.low, high: 100 * i.high };

/** Per KPI: its value on a side, and its interval from the two sides (undefined: not compared). */
const KPIS: Record<string, { value(s: Side): number | null; interval?(b: Side, a: Side): Interval95 | null }> = {
  AVG_RESOLUTION_TIME: { value: (s) => mean(s.res), interval: (b, a) => welchInterval(sample(b.res), sample(a.res)) },
  AVG_SATISFACTION: { value: (s) => mean(s.sat), interval: (b, a) => welchInterval(sample(b.sat), sample(a.sat)) },
  CSAT: {
    value: (s) => pct(s.sat.filter((v) => v >= 4).length, s.sat.length),
    interval: (b, a) =>
      scaled(
        newcombeInterval(
          { successes: b.sat.filter((v) => v >= 4).length, trials: b.sat.length },
          { successes: a.sat.filter((v) => v >= 4).length, trials: a.sat.length },
        ),
      ),
  },
  TOTAL_CONFLICTS: { value: (s) => s.conflicts, interval: () => null },
  CONFLICT_RATE: {
    value: (s) => pct(s.conflicts, s.res.length),
    interval: (b, a) =>
      scaled(
        newcombeInterval(
          { successes: b.conflicts, trials: b.res.length },
          { successes: a.conflicts, trials: a.res.length },
        ),
      ),
  },
  WITHIN_STANDARD: {
    value: (s) => pct(within(s), judged(s)),
    interval: (b, a) =>
      scaled(
        newcombeInterval({ successes: within(b), trials: judged(b) }, { successes: within(a), trials: judged(a) }),
      ),
  },
};

const close = (actual: number | null | undefined, expected: number | null | undefined) =>
  expected == null
    ? actual == null
    : actual != null && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));

const RUNS = Number(process.env.IMPACT_RUNS ?? 150);

describe('impact against the raw events', () => {
  it('equals, row by row, the interval computed from the raw events over random ranges and filters', async () => {
    // Hundreds of requests from one key: no rate limit in the way.
    const t = await testApp({ now: () => NOW, env: { RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_BURST: '1000000' } });
    let programNo = 0;
    let caseNo = 0;
    let questions = 0;
    await fc.assert(
      fc.asyncProperty(datasetArb, async (dataset) => {
        const programId = `p${++programNo}`;
        await t.ok(CreateProgramDocument, {
          input: {
            id: programId,
            name: programId,
            timezone: dataset.zone,
            resolutionStandardDays: dataset.standard,
            dimensions: [
              { key: 'office', label: 'Office' },
              { key: 'channel', label: 'Channel' },
            ],
          },
        });
        const events: RawEvent[] = dataset.events.map((e) => ({
          kind: e.kind,
          value: e.kind === 'RESOLUTION_TIME' ? e.days : e.kind === 'SATISFACTION' ? e.score : null,
          at: e.at,
          attributes: {
            ...(e.office ? { office: e.office } : {}),
            ...(e.channel ? { channel: e.channel } : {}),
          },
        }));
        if (events.length > 0)
          await t.ok(RecordEventsDocument, {
            events: events.map(
              (e): EventInput => ({
                programId,
                kind: e.kind,
                value: e.value,
                caseId: `c${++caseNo}`,
                occurredAt: iso(e.at),
                attributes: Object.entries(e.attributes).map(([key, value]) => ({ key, value })),
              }),
            ),
          });
        for (const q of dataset.questions) {
          questions++;
          const { createAnnotation } = await t.ok(CreateAnnotationDocument, {
            input: { programId, at: iso(q.at), title: 'change' },
          });
          const { impact } = await t.ok(ImpactDocument, {
            annotationId: createAnnotation.id,
            days: q.days,
            filter: q.filter.length ? q.filter : null,
          });
          const matching = events.filter((e) =>
            q.filter.every((f) => e.attributes[f.key] !== undefined && f.values.includes(e.attributes[f.key])),
          );
          const afterEnd = Math.max(q.at, Math.min(q.at + q.days * DAY, NOW));
          expect(impact.afterTo).toBe(iso(afterEnd));
          expect(impact.beforeFrom).toBe(iso(q.at - q.days * DAY));
          const before = naive(matching, dataset.standard ?? null, q.at - q.days * DAY, q.at);
          const after = naive(matching, dataset.standard ?? null, q.at, afterEnd);
          for (const row of impact.rows) {
            const spec = KPIS[row.kpi];
            if (!spec) {
              // Percentiles: from the histogram (about 1%), compared by the rollup property test; here only their presence.
              expect(row.before === null, row.kpi).toBe(!before.any || before.res.length === 0);
              expect(row, row.kpi).toMatchObject({ low: null, high: null, significant: null });
              continue;
            }
            const b = before.any ? spec.value(before) : null;
            const a = after.any ? spec.value(after) : null;
            const interval = b === null || a === null ? null : (spec.interval?.(before, after) ?? null);
            const where = `${row.kpi} at ${iso(q.at)} days ${q.days} filter ${JSON.stringify(q.filter)}`;
            expect(close(row.before, b), `${where}: before ${row.before} against ${b}`).toBe(true);
            expect(close(row.after, a), `${where}: after ${row.after} against ${a}`).toBe(true);
            expect(close(row.change, a === null || b === null ? null : a - b), `${where}: change`).toBe(true);
            expect(close(row.low, interval?.low), `${where}: low ${row.low} against ${interval?.low}`).toBe(true);
            expect(close(row.high, interval?.high), `${where}: high ${row.high} against ${interval?.high}`).toBe(true);
            // Which side of 0 an end lies is compared where it is not within the tolerance of 0.
            if (interval === null) expect(row.significant, where).toBeNull();
            else if (Math.min(Math.abs(interval.low), Math.abs(interval.high)) > 1e-9)
              expect(row.significant, where).toBe(interval.low > 0 || interval.high < 0);
          }
        }
      }),
      {
        numRuns: RUNS,
        seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined,
      },
    );
    expect(questions).toBeGreaterThanOrEqual(RUNS);
  }, 600_000);
});
