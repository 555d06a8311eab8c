/**
 * The aggregate: what a rollup holds and what every KPI is computed from. Merging two is addition,
 * retraction is subtraction, so rollups of any buckets combine exactly.
 */
import type { EventKind } from '../db/types.js';

/**
 * Log-spaced histogram of resolution days. Bin i holds the values in (γ^(i-1), γ^i] with γ = 1.01,
 * so any two values of one bin differ by at most 1%. Each bin keeps its count and the sum of its
 * values; a percentile answers the mean of the bin that holds the nearest rank. That mean lies
 * inside the bin, so it is within 1% of the true value, and exact when the bin holds one distinct value.
 * (DDSketch's midpoint estimate allows γ ≈ 1.02 for 1%, but the bin mean may sit anywhere in its bin.)
 */
const GAMMA = 1.01;
const LOG_GAMMA = Math.log(GAMMA);
/** Zero gets a bin of its own, below every positive value (the smallest double still has a finite log). */
const ZERO_BIN = -1_000_000;

export function binIndex(value: number): number {
  if (value <= 0) return ZERO_BIN;
  return Math.ceil(Math.log(value) / LOG_GAMMA);
}

export class Histogram {
  /** bin index → [count, sum] */
  readonly bins = new Map<number, [number, number]>();

  add(value: number, sign = 1): void {
    this.addBin(binIndex(value), sign, sign * value);
  }

  merge(other: Histogram, sign = 1): void {
    for (const [index, [count, sum]] of other.bins) this.addBin(index, sign * count, sign * sum);
  }

  private addBin(index: number, count: number, sum: number): void {
    // Counts may go negative: a retraction's delta is a histogram of minus ones until it is merged.
    const bin = this.bins.get(index);
    if (!bin) {
      if (count !== 0) this.bins.set(index, [count, sum]);
      return;
    }
    bin[0] += count;
    bin[1] += sum;
    if (Math.abs(bin[0]) < 0.5) this.bins.delete(index);
  }

  /** Nearest-rank percentile: the smallest value v with at least q of all values ≤ v. */
  quantile(q: number): number | null {
    let total = 0;
    for (const [count] of this.bins.values()) total += count;
    if (total < 0.5) return null;
    const rank = Math.max(1, Math.ceil(q * Math.round(total) - 1e-9));
    let seen = 0;
    for (const index of [...this.bins.keys()].sort((a, b) => a - b)) {
      const [count, sum] = this.bins.get(index)!;
      seen += count;
      if (seen >= rank - 1e-9) return index === ZERO_BIN ? 0 : sum / count;
    }
    return null;
  }

  /** Packed as float64 triples (index, count, sum), for the rollup's blob column. */
  encode(): Uint8Array {
    const packed = new Float64Array(this.bins.size * 3);
    let i = 0;
    for (const [index, [count, sum]] of this.bins) {
      packed[i++] = index;
      packed[i++] = count;
      packed[i++] = sum;
    }
    return new Uint8Array(packed.buffer);
  }

  static decode(bytes: Uint8Array | null | undefined): Histogram {
    const histogram = new Histogram();
    if (!bytes || bytes.byteLength === 0) return histogram;
    const copy = new Uint8Array(bytes); // aligned copy: a Buffer's offset need not be a multiple of 8
    const packed = new Float64Array(copy.buffer, 0, copy.byteLength / 8);
    for (let i = 0; i < packed.length; i += 3) histogram.addBin(packed[i], packed[i + 1], packed[i + 2]);
    return histogram;
  }
}

/** A satisfaction score of 4 or more counts as satisfied for CSAT. */
export const SATISFIED_FROM = 4;

export class Aggregate {
  resCount = 0;
  resSum = 0;
  resHist = new Histogram();
  satCount = 0;
  satSum = 0;
  satPositive = 0;
  conflicts = 0;

  /** Adds one event (sign 1) or takes it away (sign -1). */
  addEvent(kind: EventKind, value: number | null, sign = 1): void {
    if (kind === 'RESOLUTION_TIME') {
      this.resCount += sign;
      this.resSum += sign * value!;
      this.resHist.add(value!, sign);
    } else if (kind === 'SATISFACTION') {
      this.satCount += sign;
      this.satSum += sign * value!;
      if (value! >= SATISFIED_FROM) this.satPositive += sign;
    } else {
      this.conflicts += sign;
    }
  }

  merge(other: Aggregate, sign = 1): this {
    this.resCount += sign * other.resCount;
    this.resSum += sign * other.resSum;
    this.resHist.merge(other.resHist, sign);
    this.satCount += sign * other.satCount;
    this.satSum += sign * other.satSum;
    this.satPositive += sign * other.satPositive;
    this.conflicts += sign * other.conflicts;
    return this;
  }

  static sum(parts: Iterable<Aggregate>): Aggregate {
    const total = new Aggregate();
    for (const part of parts) total.merge(part);
    return total;
  }
}
