/**
 * A rollup row's KPIs as stored with it: its counts, and in its `answers` column the mean and
 * percentiles of resolution days and the mean satisfaction (rowOf writes them from the aggregate
 * the row encodes, so they are what that aggregate answers, to the bit). A series point that is
 * one stored row is answered from these alone: a breakdown's year of days by office is 18,000
 * rows, and reading their sums and histograms to compute the same four numbers again was most of
 * its cost.
 */
import { type Aggregate, Histogram } from './aggregate.js';
import { type KpiInputs, PERCENTILES, type Percentile } from './registry.js';

export class RowAnswers implements KpiInputs {
  constructor(
    readonly resCount: number,
    readonly satCount: number,
    readonly satPositive: number,
    readonly conflicts: number,
    readonly resWithin: number,
    readonly resJudged: number,
    private readonly mean: number | null,
    private readonly p50: number | null,
    private readonly p90: number | null,
    private readonly satisfaction: number | null,
  ) {}

  resMean(): number | null {
    return this.mean;
  }

  satMean(): number | null {
    return this.satisfaction;
  }

  resPercentile(q: Percentile): number | null {
    return q === 0.5 ? this.p50 : this.p90;
  }
}

/** A bucket without a stored row: no events. */
export const NO_ANSWERS = new RowAnswers(0, 0, 0, 0, 0, 0, null, null, null, null);

/**
 * The answers column: everything a point reads of its row, so that a series is read from this
 * column alone: the bucket start, the six counts and the four answers, each a float64
 * (little-endian; NaN for an answer without data). Counts are whole numbers far below 2^53.
 */
export const ANSWERS_BYTES = 11 * 8;

/**
 * The answers of `a`, stored in the row of the bucket at `bucketStart` whose histogram encodes as
 * `histogram` (its res_hist): the percentiles are read from those bytes, which store them when
 * the histogram is large (Histogram.encode).
 */
export function encodeAnswers(bucketStart: number, a: Aggregate, histogram: Uint8Array): Uint8Array {
  // Pooled (Node's small buffers), every byte written: a commit writes this for thousands of rows.
  const bytes = Buffer.allocUnsafe(ANSWERS_BYTES);
  bytes.writeDoubleLE(bucketStart, 0);
  bytes.writeDoubleLE(a.resCount, 8);
  bytes.writeDoubleLE(a.satCount, 16);
  bytes.writeDoubleLE(a.satPositive, 24);
  bytes.writeDoubleLE(a.conflicts, 32);
  bytes.writeDoubleLE(a.resWithin, 40);
  bytes.writeDoubleLE(a.resJudged, 48);
  bytes.writeDoubleLE(a.resMean() ?? Number.NaN, 56);
  bytes.writeDoubleLE(Histogram.quantileOf(histogram, PERCENTILES[0]) ?? Number.NaN, 64);
  bytes.writeDoubleLE(Histogram.quantileOf(histogram, PERCENTILES[1]) ?? Number.NaN, 72);
  bytes.writeDoubleLE(a.satMean() ?? Number.NaN, 80);
  return bytes;
}

const answer = (bytes: Buffer, at: number) => {
  const value = bytes.readDoubleLE(at);
  return Number.isNaN(value) ? null : value;
};

/** The bucket start of the answers column at `at` in `bytes`. */
export const answersBucketStart = (bytes: Buffer, at: number) => bytes.readDoubleLE(at);

/** The answers column at `at` in `bytes`. */
export function decodeAnswers(bytes: Buffer, at: number): RowAnswers {
  return new RowAnswers(
    bytes.readDoubleLE(at + 8),
    bytes.readDoubleLE(at + 16),
    bytes.readDoubleLE(at + 24),
    bytes.readDoubleLE(at + 32),
    bytes.readDoubleLE(at + 40),
    bytes.readDoubleLE(at + 48),
    answer(bytes, at + 56),
    answer(bytes, at + 64),
    answer(bytes, at + 72),
    answer(bytes, at + 80),
  );
}

/**
 * Adds the six counts of the answers column at `at` to `target`: a read that merges a row's sums
 * and histogram takes its counts from here (they are the row's count columns, as numbers).
 */
export function addAnsweredCounts(target: Aggregate, bytes: Buffer, at: number): void {
  target.resCount += bytes.readDoubleLE(at + 8);
  target.satCount += bytes.readDoubleLE(at + 16);
  target.satPositive += bytes.readDoubleLE(at + 24);
  target.conflicts += bytes.readDoubleLE(at + 32);
  target.resWithin += bytes.readDoubleLE(at + 40);
  target.resJudged += bytes.readDoubleLE(at + 48);
}
