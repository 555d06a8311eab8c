/**
 * The histogram on its own: however values are split into parts, encoded, merged and retracted,
 * its percentiles stay within 1% of the nearest-rank value of what remains.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram } from '../src/kpis/aggregate.js';

const value = fc.oneof(
  fc.constant(0),
  fc.double({ min: 1e-9, max: 36_500, noNaN: true }),
  fc.integer({ min: 0, max: 100 }),
  fc.double({ min: 2.9, max: 3.1, noNaN: true }),
);

const nearestRank = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] : null;

describe('histogram (property)', () => {
  it('keeps percentiles within 1% through encode, merge and retraction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.constantFrom(0.01, 0.5, 0.9, 1),
        (parts, retract, q) => {
          const merged = new Histogram();
          for (const part of parts) {
            const h = new Histogram();
            for (const v of part) h.add(v);
            merged.mergeEncoded(h.encode([0.5, 0.9]));
          }
          const remaining = parts.flat();
          for (const n of retract) {
            if (remaining.length === 0) break;
            const [v] = remaining.splice(n % remaining.length, 1);
            merged.add(v, -1);
          }
          remaining.sort((a, b) => a - b);
          const exact = nearestRank(remaining, q);
          // Decoded again with stored answers for the median and p90 (what rollup rows hold), and without.
          for (const h of [merged, Histogram.decode(merged.encode([0.5, 0.9])), Histogram.decode(merged.encode())]) {
            const got = h.quantile(q);
            if (exact === null) expect(got).toBeNull();
            else expect(Math.abs(got! - exact)).toBeLessThanOrEqual(0.01 * exact + 1e-12);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('keeps percentiles within 1% when parts are merged as histograms, binned or not, and taken away', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(value, { maxLength: 40 }), fc.boolean(), fc.boolean()), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.constantFrom(0.01, 0.5, 0.9, 1),
        (parts, q) => {
          // Each part a fresh histogram (as a commit's delta), merged unbinned or after a read binned it;
          // some added then taken away again (a retraction), which must leave no trace.
          const merged = new Histogram();
          const remaining: number[] = [];
          for (const [part, binned, retracted] of parts) {
            const h = new Histogram();
            for (const v of part) h.add(v);
            if (binned) h.quantile(0.5);
            merged.merge(h);
            if (retracted) merged.merge(h, -1);
            else remaining.push(...part);
          }
          remaining.sort((a, b) => a - b);
          const exact = nearestRank(remaining, q);
          for (const h of [merged, Histogram.decode(merged.encode([0.5, 0.9]))]) {
            const got = h.quantile(q);
            if (exact === null) expect(got).toBeNull();
            else expect(Math.abs(got! - exact)).toBeLessThanOrEqual(0.01 * exact + 1e-12);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('encodes a histogram kept as its bytes, then given more values, byte for byte as one given them all', () => {
    // A row a commit rewrites is kept encoded, and its next values spliced into its bytes (Histogram.encode).
    const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 300 }),
        fc.array(fc.array(fc.tuple(value, fc.boolean(), fc.nat(), fc.boolean()), { maxLength: 30 }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.constantFrom([], [0.5, 0.9]),
        (base, rounds, precomputed) => {
          const kept = new Histogram();
          const whole = new Histogram();
          for (const v of base) {
            kept.add(v);
            whole.add(v);
          }
          kept.encode(precomputed);
          for (const round of rounds) {
            // Some values added one by one, the others as a commit's delta; some taken away again.
            const delta = new Histogram();
            const later: [number, number][] = [];
            for (const [v, retract, n, direct] of round) {
              const [x, sign] = retract && base.length > 0 ? [base[n % base.length], -1] : [v, 1];
              (direct ? kept : delta).add(x, sign);
              if (direct) whole.add(x, sign);
              else later.push([x, sign]);
            }
            kept.merge(delta);
            for (const [x, sign] of later) whole.add(x, sign);
            kept.encode(precomputed);
          }
          expect(hex(kept.encode(precomputed))).toBe(hex(whole.encode(precomputed)));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('answers a value exactly when its bin holds only that value', () => {
    const h = new Histogram();
    for (const v of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) h.add(v);
    expect([h.quantile(0.5), h.quantile(0.9)]).toEqual([5, 9]);
    expect(Histogram.decode(h.encode()).quantile(0.5)).toBe(5);
  });
});
