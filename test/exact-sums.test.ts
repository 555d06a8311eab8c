/**
 * Exact sums: records and retractions of values of any magnitude leave no residue, in the sum, the
 * sum of squares, the mean and the status of a target equal to the mean. The oracle is integer
 * arithmetic: every value scaled by 2^200 is a BigInt exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Aggregate } from '../src/kpis/aggregate.js';
import { ExactSum, sampleVariance } from '../src/kpis/exact-sum.js';
import { mergeRow } from '../src/kpis/rollups.repository.js';
import {
  DashboardDocument,
  RecordEventsDocument,
  RetractEventDocument,
  ScorecardDocument,
  SetTargetDocument,
  type EventInput,
} from './generated/operations.js';
import { testApp, type TestApp } from './helpers/app.js';

const BITS = 200n;
/** Exact for every double from 2^-148 up: the smallest values below use that bound. */
const scaled = (v: number) => BigInt(v * 2 ** Number(BITS));

/** The exact mean rounded once (the truncated 64 extra bits could only matter within 2^-64 of a tie). */
function exactMean(values: number[]): number {
  const sum = values.reduce((s, v) => s + scaled(v), 0n);
  const quotient = (sum << 64n) / BigInt(values.length);
  return Number(quotient) / 2 ** Number(BITS + 64n);
}
const exactSum = (values: number[]) => Number(values.reduce((s, v) => s + scaled(v), 0n)) / 2 ** Number(BITS);
function exactVariance(values: number[]): number {
  const n = BigInt(values.length);
  const sum = values.reduce((s, v) => s + scaled(v), 0n);
  const squares = values.reduce((s, v) => s + scaled(v) ** 2n, 0n);
  return Number(n * squares - sum * sum) / 2 ** Number(2n * BITS) / (values.length * (values.length - 1));
}

/** Large and small magnitudes side by side: 36,500 days beside a hundredth of a second. */
const value = fc.oneof(
  fc.constantFrom(36_500, 0.0001, 0.1, 0.2, 0.3, 0.7, 1e-12, 12_345.678_9),
  fc.double({ min: 0, max: 36_500, noNaN: true }).filter((v) => v === 0 || v >= 2 ** -140),
  fc.double({ min: 1e-12, max: 1, noNaN: true }),
  fc.double({ min: 1, max: 5, noNaN: true }),
);

describe('ExactSum', () => {
  it('equals the exact sum, mean and variance after any records and retractions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ value, retractAt: fc.option(fc.nat(), { nil: null }) }), { minLength: 1, maxLength: 60 }),
        (steps) => {
          // One aggregate built by adds and subtractions in arrival order, another from rows merged and unmerged.
          const aggregate = new Aggregate();
          const live: number[] = [];
          for (const step of steps) {
            aggregate.addEvent('RESOLUTION_TIME', step.value, 1);
            live.push(step.value);
            if (step.retractAt !== null && live.length > 1) {
              const [gone] = live.splice(step.retractAt % live.length, 1);
              aggregate.addEvent('RESOLUTION_TIME', gone, -1);
            }
          }
          expect(aggregate.resSum.value()).toBe(exactSum(live));
          expect(aggregate.resMean()).toBe(exactMean(live));
          if (live.length >= 2) {
            const want = exactVariance(live);
            expect(Math.abs(aggregate.resVariance()! - want)).toBeLessThanOrEqual(1e-12 * want + 1e-300);
          }
          // Through the stored encoding and back, subtracting a part again: still exact.
          const extra = new Aggregate();
          extra.addEvent('RESOLUTION_TIME', 36_500, 1);
          const row = {
            res_count: aggregate.resCount,
            res_sum: aggregate.resSum.encode(),
            res_squares: aggregate.resSquares.encode(),
            res_hist: aggregate.resHist.encode(),
            sat_count: 0,
            sat_sum: new Uint8Array(0),
            sat_squares: new Uint8Array(0),
            sat_positive: 0,
            conflicts: 0,
            res_within: 0,
            res_judged: 0,
            answers: null,
          };
          const merged = mergeRow(new Aggregate().merge(extra), {
            program_id: 'p',
            level: 'L',
            bucket_start: 0,
            ...row,
          });
          merged.merge(extra, -1);
          expect(merged.resSum.value()).toBe(exactSum(live));
          expect(merged.resSquares.value()).toBe(aggregate.resSquares.value());
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('divides by the count rounded once, when a tiny value tips a tie', () => {
    // The sum is 4 + 2^-51 + 2^-140, so the mean is 1 + 2^-53 + 2^-142: just above the tie between 1
    // and 1 + 2^-52. A quotient corrected by a rounded remainder lands on the tie and rounds to 1.
    const live = [2 ** -140, 2 ** -51, 2, 2];
    const sum = new ExactSum();
    for (const v of live) sum.add(v);
    expect(exactMean(live)).toBe(1 + 2 ** -52);
    expect(sum.dividedBy(live.length)).toBe(1 + 2 ** -52);
    sum.add(-(2 ** -140));
    // Without it the mean is the tie itself, and rounds to even.
    expect(sum.dividedBy(live.length)).toBe(1);
  });

  it('rounds a sum to the nearest double, ties to even', () => {
    const sum = new ExactSum();
    for (const v of [1, 2 ** -53, 2 ** -105]) sum.add(v);
    // 1 + 2^-53 alone is a tie that rounds down to 1; the 2^-105 beneath it tips it up.
    expect(sum.value()).toBe(1 + 2 ** -52);
    sum.add(-(2 ** -105));
    expect(sum.value()).toBe(1);
    expect(sampleVariance(sum, new ExactSum(), 1)).toBeNull();
  });
});

describe('exact sums through the service', () => {
  const FEB = { from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' };
  let seq = 0;
  const days = (v: number, at = '2026-02-10T12:00:00.000Z'): EventInput => ({
    kind: 'RESOLUTION_TIME',
    programId: 'U',
    caseId: `case-${++seq}`,
    value: v,
    occurredAt: at,
  });

  async function recordAndRetract(t: TestApp, keep: number[], retract: number[]) {
    await t.ok(RecordEventsDocument, { events: [...retract, ...keep].map((v) => days(v)) });
    // Event ids follow the order of the batch: the retracted values come first.
    const first = (await t.ok(DashboardDocument, { programId: 'U', ...FEB })).dashboard.resolvedCases;
    expect(first).toBe(keep.length + retract.length);
    for (let id = 1; id <= retract.length; id++) await t.ok(RetractEventDocument, { id: String(id) });
  }

  it('averages 0.0001 after 36,500 and 0.0001 are recorded and the 36,500 retracted', async () => {
    const t = await testApp({ now: () => Date.parse('2026-03-15T00:00:00Z') });
    await t.program('U');
    await recordAndRetract(t, [0.0001], [36_500]);
    const dashboard = (await t.ok(DashboardDocument, { programId: 'U', ...FEB })).dashboard;
    expect(dashboard.resolvedCases).toBe(1);
    expect(dashboard.avgResolutionTime).toBe(0.0001);
  });

  it('meets a target equal to the exact mean, after retractions of large values', async () => {
    const t = await testApp({ now: () => Date.parse('2026-03-15T00:00:00Z') });
    await t.program('U');
    const keep = [0.1, 0.3, 0.7, 1e-9];
    await recordAndRetract(t, keep, [36_500, 12_345.678_9, 0.2]);
    const mean = exactMean(keep);
    // Floating-point sums of the same writes land beside it, which once gave NOT_MET.
    expect(36_500 + 12_345.678_9 + 0.2 + 0.1 + 0.3 + 0.7 + 1e-9 - 36_500 - 12_345.678_9 - 0.2).not.toBe(4 * mean);
    await t.ok(SetTargetDocument, { input: { programId: 'U', kpi: 'AVG_RESOLUTION_TIME', value: mean, ...FEB } });
    const card = (await t.ok(ScorecardDocument, { programId: 'U', ...FEB })).scorecard;
    const row = card.rows.find((r) => r.kpi === 'AVG_RESOLUTION_TIME')!;
    expect(row.actual).toBe(mean);
    expect(row.status).toBe('MET');
  });
});
