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

/** The answers column: four float64, little-endian, NaN for none (no data). */
export const ANSWERS_BYTES = 32;

/**
 * The answers of `a`, whose histogram encodes as `histogram` (the row's res_hist): its percentiles
 * are read from those bytes, which store them when the histogram is large (Histogram.encode).
 */
export function encodeAnswers(a: Aggregate, histogram: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(ANSWERS_BYTES);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, a.resMean() ?? Number.NaN, true);
  view.setFloat64(8, Histogram.quantileOf(histogram, PERCENTILES[0]) ?? Number.NaN, true);
  view.setFloat64(16, Histogram.quantileOf(histogram, PERCENTILES[1]) ?? Number.NaN, true);
  view.setFloat64(24, a.satMean() ?? Number.NaN, true);
  return bytes;
}

/**
 * A row as readRowAnswers packs it, at `at` in `bytes`: its bucket start and six counts, each
 * 64-bit big-endian two's complement (as SQL prints them in hex), then its answers column.
 */
export const PACKED_ROW_BYTES = 7 * 8 + ANSWERS_BYTES;

const int64 = (bytes: Buffer, at: number) => bytes.readInt32BE(at) * 2 ** 32 + bytes.readUInt32BE(at + 4);
const answer = (bytes: Buffer, at: number) => {
  const value = bytes.readDoubleLE(at);
  return Number.isNaN(value) ? null : value;
};

export const packedBucketStart = (bytes: Buffer, at: number) => int64(bytes, at);

export function unpackAnswers(bytes: Buffer, at: number): RowAnswers {
  return new RowAnswers(
    int64(bytes, at + 8),
    int64(bytes, at + 16),
    int64(bytes, at + 24),
    int64(bytes, at + 32),
    int64(bytes, at + 40),
    int64(bytes, at + 48),
    answer(bytes, at + 56),
    answer(bytes, at + 64),
    answer(bytes, at + 72),
    answer(bytes, at + 80),
  );
}
