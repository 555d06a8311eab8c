/**
 * The aggregate: what a rollup holds and what every KPI is computed from. Merging two is addition,
 * retraction is subtraction, so rollups of any buckets combine exactly.
 */
import type { EventKind } from '../db/types.js';
import { ExactSum, sampleVariance } from './exact-sum.js';

/**
 * Log-spaced histogram of resolution days. Bin i holds the values in (γ^(i-1), γ^i] with γ = 1.01,
 * so any two values of one bin differ by at most 1%. Each bin keeps its count and the sum of its
 * values; a percentile answers the mean of the bin that holds the nearest rank. That mean lies
 * inside the bin, so it is within 1% of the true value, and exact when the bin holds one distinct value.
 * (DDSketch's midpoint estimate allows γ ≈ 1.02 for 1%, but the bin mean may sit anywhere in its bin.)
 *
 * Bins live in two dense arrays over the window of indexes in use, because reads merge thousands
 * of rollups and an array add is far cheaper than a map lookup. Zero has a count of its own.
 */
const GAMMA = 1.01;
const NO_BINS = new Float64Array(0);
/** binPending's bin indexes, reused: it runs once per row a commit writes. */
let binScratch = new Int32Array(64);
const LOG_GAMMA = Math.log(GAMMA);
/**
 * Positive values below this (86 ns) share the lowest bin, which keeps the window bounded; their
 * percentile is then off by at most this much in absolute terms.
 */
const SMALLEST = 1e-12;
const LOWEST_INDEX = Math.ceil(Math.log(SMALLEST) / LOG_GAMMA);

export function binIndex(value: number): number {
  return Math.max(LOWEST_INDEX, Math.ceil(Math.log(value) / LOG_GAMMA));
}

/** Values a histogram holds unbinned at most (see Histogram.unbinned). */
const UNBINNED_MAX = 4_096;

/** Counts are whole numbers, but deltas carry sums of floats; anything this close to zero is zero. */
const EMPTY = 0.5;

export class Histogram {
  private zeros = 0;
  /** Index of slot 0 of `counts` and `sums`. */
  private low = 0;
  // Every histogram starts with the one empty window: a commit makes one per bucket it touches, and
  // most never bin anything (their values go unbinned into a stored row's histogram). reserve()
  // replaces it before anything is written.
  private counts = NO_BINS;
  private sums = NO_BINS;
  /**
   * An encoded histogram not decoded yet, held only while it is all there is: a series point is
   * usually one rollup row, whose percentiles can be read from its bytes directly.
   */
  private encoded: Uint8Array | null = null;
  /**
   * Positive values added (negated when taken away) and not yet in the arrays: a commit adds each
   * event to a dozen deltas, whose windows would otherwise grow bin by bin; these are binned in
   * order (the same sums, bit for bit) into a window sized once, before anything reads the arrays.
   */
  private unbinned: number[] = [];

  add(value: number, sign = 1): void {
    if (this.encoded) this.decodePending();
    if (value <= 0) this.zeros += sign;
    else if (this.unbinned.push(sign * value) >= UNBINNED_MAX) this.binPending();
  }

  private binPending(): void {
    const values = this.unbinned;
    if (values.length === 0) return;
    this.unbinned = [];
    if (binScratch.length < values.length) binScratch = new Int32Array(Math.max(2 * values.length, 64));
    const bins = binScratch;
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const bin = (bins[i] = binIndex(Math.abs(values[i])));
      if (bin < first) first = bin;
      if (bin > last) last = bin;
    }
    this.reserve(first, last);
    for (let i = 0; i < values.length; i++) this.addBin(bins[i], Math.sign(values[i]), values[i]);
  }

  merge(other: Histogram, sign = 1): void {
    if (other.encoded === null && other.counts.length === 0) {
      // Only values not binned yet (a commit's delta, a handful per bucket): taken as they are and
      // binned with this histogram's own, so no window is sized for the few of them alone.
      if (other.zeros === 0 && other.unbinned.length === 0) return;
      if (this.encoded) this.decodePending();
      this.zeros += sign * other.zeros;
      for (const v of other.unbinned) if (this.unbinned.push(sign * v) >= UNBINNED_MAX) this.binPending();
      return;
    }
    other.binPending();
    if (other.encoded) {
      this.mergeEncoded(other.encoded, sign);
      return;
    }
    // Nothing to add (a delta of satisfaction or conflict events only): a stored row stays encoded.
    if (other.zeros === 0 && other.counts.length === 0) return;
    this.decodePending();
    this.zeros += sign * other.zeros;
    const { counts, sums, low } = other;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) this.addBin(low + i, sign * counts[i], sign * sums[i]);
  }

  /** Adds (sign 1) or takes away (sign -1) an encoded histogram, without building an object for it. */
  mergeEncoded(bytes: Uint8Array | null | undefined, sign = 1): void {
    if (!bytes || bytes.byteLength === 0) return;
    if (
      sign === 1 &&
      this.encoded === null &&
      this.zeros === 0 &&
      this.counts.length === 0 &&
      this.unbinned.length === 0
    ) {
      this.encoded = bytes;
      return;
    }
    this.decodePending();
    this.decode(bytes, sign);
  }

  /**
   * addBin for every bin, inlined into one loop over a window sized once: a breakdown's totals
   * decode thousands of month rows of a hundred bins and more.
   */
  private decode(bytes: Uint8Array, sign: number): void {
    scanHeader(bytes, -1);
    this.zeros += sign * scanned.zeros;
    const input = READER.over(bytes, scanned.end);
    const bins = input.varint();
    if (bins === 0) return;
    let index = input.varint();
    this.reserve(index, index + input.varint());
    const { counts, sums, low } = this;
    const view = viewOf(bytes);
    const base = bytes.byteOffset;
    // The reader's steps inlined, with one-byte varints (nearly every bin step and count) decoded
    // in place: this loop is most of a breakdown's totals once the rows are read.
    let at = input.at;
    for (let b = 0; b < bins; b++) {
      let z = bytes[at];
      if (z < 128) {
        at++;
        index += (z >> 1) ^ -(z & 1);
      } else {
        index += input.varintAt(at);
        at = input.at;
      }
      const slot = index - low;
      z = bytes[at];
      let count: number;
      if (z < 128) {
        at++;
        count = (z >> 1) ^ -(z & 1);
      } else {
        count = input.varintAt(at);
        at = input.at;
      }
      const c = (counts[slot] += sign * count);
      sums[slot] += sign * view.getFloat64(base + at, true);
      at += 8;
      if (Math.abs(c) < EMPTY) counts[slot] = sums[slot] = 0;
    }
  }

  /** Nearest-rank percentile: the smallest value v with at least q of all values ≤ v. */
  quantile(q: number): number | null {
    this.binPending();
    if (this.encoded) return encodedQuantile(this.encoded, q);
    let total = this.zeros;
    const { counts } = this;
    for (let i = 0; i < counts.length; i++) total += counts[i];
    return this.denseQuantile(q, total);
  }

  /** quantile() of an encoded histogram, as its stored row answers it (its stored answer, if it has one). */
  static quantileOf(bytes: Uint8Array, q: number): number | null {
    return encodedQuantile(bytes, q);
  }

  /**
   * quantile() of the dense arrays, given their total count (zeros included): stops at the answer.
   * encode asks this for every rollup row written, with the total it has counted already.
   */
  private denseQuantile(q: number, total: number): number | null {
    const rank = nearestRank(q, total);
    if (rank === 0) return null;
    if (this.zeros >= rank - EMPTY) return 0;
    let seen = this.zeros;
    const { counts, sums } = this;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] < EMPTY) continue;
      seen += counts[i];
      if (seen >= rank - EMPTY) return sums[i] / counts[i];
    }
    return null;
  }

  private decodePending(): void {
    this.binPending();
    const bytes = this.encoded;
    if (!bytes) return;
    this.encoded = null;
    this.decode(bytes, 1);
  }

  private addBin(index: number, count: number, sum: number): void {
    let slot = index - this.low;
    if (slot < 0 || slot >= this.counts.length) slot = this.reserve(index, index);
    const c = (this.counts[slot] += count);
    this.sums[slot] += sum;
    // An emptied bin forgets its sum, so float residue of add-then-subtract never lingers.
    if (Math.abs(c) < EMPTY) this.counts[slot] = this.sums[slot] = 0;
  }

  /** Widens the window, if need be, to hold bins `from` to `to`, with room to spare; returns the slot of `from`. */
  private reserve(from: number, to: number): number {
    const oldLength = this.counts.length;
    if (oldLength > 0 && from >= this.low && to < this.low + oldLength) return from - this.low;
    const low = oldLength === 0 ? from - 16 : Math.min(this.low, from - 16);
    const high = oldLength === 0 ? to + 17 : Math.max(this.low + oldLength, to + 17);
    const length = Math.max(high - low, oldLength * 2);
    // Spare room goes on the side that grew.
    const start = oldLength === 0 || from < this.low ? high - length : low;
    const counts = new Float64Array(length);
    const sums = new Float64Array(length);
    if (oldLength > 0) {
      counts.set(this.counts, this.low - start);
      sums.set(this.sums, this.low - start);
    }
    this.low = start;
    this.counts = counts;
    this.sums = sums;
    return from - start;
  }

  /**
   * Packed for the rollup's blob column: a version byte, then varints: the zero count, the total
   * count, the answers to `precomputed` percentiles (each its q in ten-thousandths and a float64;
   * NaN for none), the number of bins, the lowest index and the span, then per bin its index step
   * and count, each followed by the float64 sum. About 10 bytes a bin; zigzag varints, so negative
   * counts of deltas survive. The answers make a series point that is one stored row cost nothing
   * to answer, however many bins it holds (small histograms skip them: scanning those is cheap).
   */
  encode(precomputed: readonly number[] = []): Uint8Array {
    this.binPending();
    if (this.encoded) return this.encoded;
    // One pass over the window finds its bins; the answers and the bytes then walk those alone. A
    // window is several times wider than the bins it holds (a value rollup's day: ~450 slots for
    // ~50 bins), and a commit encodes thousands of rows: four passes over it were most of the cost.
    const { counts, sums, low } = this;
    if (occupied.length < counts.length) occupied = new Int32Array(Math.max(counts.length, 2 * occupied.length));
    const slots = occupied;
    let bins = 0;
    let total = this.zeros;
    for (let i = 0; i < counts.length; i++) {
      if (counts[i] === 0) continue;
      total += counts[i];
      slots[bins++] = i;
    }
    const answers = bins >= PRECOMPUTE_FROM ? precomputed : [];
    const out = scratchOf(32 + answers.length * 12 + bins * 19);
    const view = scratchView;
    out[0] = FORMAT;
    let at = putVarint(out, 1, this.zeros);
    at = putVarint(out, at, total);
    at = putVarint(out, at, answers.length);
    for (const q of answers) {
      at = putVarint(out, at, answerKey(q));
      view.setFloat64(at, this.occupiedQuantile(q, total, slots, bins) ?? Number.NaN, true);
      at += 8;
    }
    at = putVarint(out, at, bins);
    if (bins > 0) {
      const first = low + slots[0];
      at = putVarint(out, at, first);
      at = putVarint(out, at, slots[bins - 1] - slots[0]);
      let previous = first;
      for (let b = 0; b < bins; b++) {
        const i = slots[b];
        at = putVarint(out, at, low + i - previous);
        previous = low + i;
        at = putVarint(out, at, counts[i]);
        view.setFloat64(at, sums[i], true);
        at += 8;
      }
    }
    return copyOut(out, at);
  }

  /** denseQuantile over the slots of the non-empty bins only (encode's `slots`, the first `bins` of them). */
  private occupiedQuantile(q: number, total: number, slots: Int32Array, bins: number): number | null {
    const rank = nearestRank(q, total);
    if (rank === 0) return null;
    if (this.zeros >= rank - EMPTY) return 0;
    let seen = this.zeros;
    const { counts, sums } = this;
    for (let b = 0; b < bins; b++) {
      const i = slots[b];
      if (counts[i] < EMPTY) continue;
      seen += counts[i];
      if (seen >= rank - EMPTY) return sums[i] / counts[i];
    }
    return null;
  }

  /** Roughly the bytes this histogram holds. */
  footprint(): number {
    this.binPending();
    return 64 + this.counts.byteLength + this.sums.byteLength + (this.encoded?.byteLength ?? 0);
  }

  static decode(bytes: Uint8Array | null | undefined): Histogram {
    const histogram = new Histogram();
    histogram.mergeEncoded(bytes);
    return histogram;
  }
}

const PRECOMPUTE_FROM = 8;
/** encode's slots of the non-empty bins, reused: it runs once per row a commit writes. */
let occupied = new Int32Array(1024);
const answerKey = (q: number) => Math.round(q * 10_000);

/**
 * What scanHeader read last: the zero count, the total count, and where the bins begin. One
 * record for every read rather than an object per header: a breakdown's series asks two
 * percentiles of each of thousands of rows.
 */
const scanned = { zeros: 0, total: 0, end: 0 };

/**
 * Reads an encoded histogram's header into `scanned`; returns its stored answer for the
 * percentile `key` (answerKey), null for a stored "none", undefined when it stores none for it.
 */
function scanHeader(bytes: Uint8Array, key: number): number | null | undefined {
  const input = READER.over(bytes);
  if (input.byte() !== FORMAT) throw new Error('unknown histogram format: rebuild the rollups');
  scanned.zeros = input.varint();
  scanned.total = input.varint();
  let found: number | null | undefined;
  for (let n = input.varint(); n > 0; n--) {
    const stored = input.varint();
    const answer = input.float();
    if (stored === key) found = Number.isNaN(answer) ? null : answer;
  }
  scanned.end = input.at;
  return found;
}

/** The nearest rank of percentile q among `total` values (rounded: deltas carry sums of floats); 0 when none. */
function nearestRank(q: number, total: number): number {
  const n = Math.round(total);
  return n < 1 ? 0 : Math.max(1, Math.ceil(q * n - 1e-9));
}

function encodedQuantile(bytes: Uint8Array, q: number): number | null {
  const stored = scanHeader(bytes, answerKey(q));
  if (stored !== undefined) return stored;
  const zeros = scanned.zeros;
  const rank = nearestRank(q, scanned.total);
  if (rank === 0) return null;
  if (zeros >= rank - EMPTY) return 0;
  let seen = zeros;
  let answer: number | null = null;
  readBins(bytes, (_, count, sum) => {
    if (answer !== null || count < EMPTY) return;
    seen += count;
    if (seen >= rank - EMPTY) answer = sum / count;
  });
  return answer;
}

/** Reads an encoded histogram: `range` once with its lowest and highest index, `fn` per bin; returns the zero count. */
function readBins(
  bytes: Uint8Array,
  fn: (index: number, count: number, sum: number) => void,
  range?: (first: number, last: number) => void,
): number {
  scanHeader(bytes, -1);
  const zeros = scanned.zeros;
  // Its own reader, so `fn` may read other histograms.
  const input = new Reader().over(bytes, scanned.end);
  const bins = input.varint();
  if (bins === 0) return zeros;
  let index = input.varint();
  const span = input.varint();
  range?.(index, index + span);
  for (let b = 0; b < bins; b++) {
    index += input.varint();
    const count = input.varint();
    fn(index, count, input.binFloat());
  }
  return zeros;
}

const FORMAT = 4;

/**
 * Encoding writes into one scratch buffer, with plain functions that return the next position (a
 * writer object's methods ran at less than half the speed), and only the bytes written are copied
 * out, into Node's pooled small buffers: a commit encodes thousands of rows, and a fresh ArrayBuffer
 * sized for the worst case, with its DataView, cost more than the encoding.
 */
let scratch = new Uint8Array(1 << 16);
let scratchView = new DataView(scratch.buffer);

function scratchOf(size: number): Uint8Array {
  if (scratch.byteLength < size) {
    scratch = new Uint8Array(2 * size);
    scratchView = new DataView(scratch.buffer);
  }
  return scratch;
}

/** Zigzag varint of an integer up to 2^52 in size, by arithmetic (bit operators stop at 32 bits). */
function putVarint(out: Uint8Array, at: number, value: number): number {
  let n = value >= 0 ? value * 2 : -value * 2 - 1;
  // Most values (bin steps, counts) are small: shifts are cheaper than division while they fit.
  while (n >= 128 && n < 2 ** 31) {
    out[at++] = (n & 127) | 128;
    n >>>= 7;
  }
  while (n >= 128) {
    out[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

function copyOut(out: Uint8Array, length: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(length);
  bytes.set(out.subarray(0, length));
  return bytes;
}

/** A position in an encoded histogram. */
class Reader {
  private buffer: Uint8Array = NO_BYTES;
  private view: DataView | null = null;
  at = 0;
  over(buffer: Uint8Array, at = 0): this {
    this.buffer = buffer;
    this.view = null;
    this.at = at;
    return this;
  }
  byte() {
    return this.buffer[this.at++];
  }
  /** The varint at `at`, leaving the reader after it. */
  varintAt(at: number) {
    this.at = at;
    return this.varint();
  }
  varint() {
    let n = 0;
    let scale = 1;
    let b: number;
    do {
      b = this.buffer[this.at++];
      n += (b & 127) * scale;
      scale *= 128;
    } while (b >= 128);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  /**
   * A header's float, copied out byte by byte (as ExactSum's are): a series point reads a header's
   * two stored percentiles, and a DataView for them would be one more object per row.
   */
  float() {
    const { buffer } = this;
    for (let b = 0; b < 8; b++) FLOAT_BYTES[b] = buffer[this.at + b];
    this.at += 8;
    return FLOAT[0];
  }
  /** A bin's float, through a DataView made once per histogram: past a few floats, 5x faster than copying bytes. */
  binFloat() {
    const view = (this.view ??= new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength));
    const value = view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }
}

const NO_BYTES = new Uint8Array(0);

/**
 * A view of the whole buffer `bytes` lie in, made once for every histogram in it: a read's rows of
 * one program come as one blob (kpis/rollups.repository.ts), and a view per histogram decoded was
 * an eighth of what a year's totals by office allocated. The last buffer stays held till the next.
 */
let viewed: ArrayBufferLike = NO_BYTES.buffer;
let viewOfViewed: DataView = new DataView(viewed);
function viewOf(bytes: Uint8Array): DataView {
  if (bytes.buffer !== viewed) {
    viewed = bytes.buffer;
    viewOfViewed = new DataView(viewed);
  }
  return viewOfViewed;
}
const FLOAT = new Float64Array(1);
/** Float64Array is little-endian on every platform Node runs on (x64, arm64), as the encoding is. */
const FLOAT_BYTES = new Uint8Array(FLOAT.buffer);
/** The reader of scanHeader and decode, which read no other histogram meanwhile. */
const READER = new Reader();

/** A resolution time meets a service standard when it is at most that many days. */
export const withinStandard = (days: number, standard: number) => days <= standard;

/** A satisfaction score of 4 or more counts as satisfied for CSAT. */
export const SATISFIED_FROM = 4;

/**
 * Sums and sums of squares are exact (see exact-sum.ts), so any sequence of records and
 * retractions leaves the aggregate of the live events, whatever their magnitudes.
 */
export class Aggregate {
  resCount = 0;
  readonly resSum = new ExactSum();
  /** Σ days², for the variance of resolution times (confidence intervals). */
  readonly resSquares = new ExactSum();
  resHist = new Histogram();
  satCount = 0;
  readonly satSum = new ExactSum();
  /** Σ score², for the variance of satisfaction scores. */
  readonly satSquares = new ExactSum();
  satPositive = 0;
  conflicts = 0;
  /**
   * Resolution times judged against their program's service standard (those of programs that have
   * one), and those of them within it (≤ the standard). Exact counts, so an all-programs aggregate
   * judges each event by its own program's standard.
   */
  resJudged = 0;
  resWithin = 0;

  /**
   * Adds one event (sign 1) or takes it away (sign -1); `standard` is its program's service standard
   * in days (null or absent: none), which a resolution time is judged against.
   */
  addEvent(kind: EventKind, value: number | null, sign = 1, standard: number | null = null): void {
    if (kind === 'RESOLUTION_TIME') {
      if (standard !== null) {
        this.resJudged += sign;
        if (withinStandard(value!, standard)) this.resWithin += sign;
      }
      this.resCount += sign;
      this.resSum.add(sign * value!);
      this.resSquares.addSquare(value!, sign);
      this.resHist.add(value!, sign);
    } else if (kind === 'SATISFACTION') {
      this.satCount += sign;
      this.satSum.add(sign * value!);
      this.satSquares.addSquare(value!, sign);
      if (value! >= SATISFIED_FROM) this.satPositive += sign;
    } else {
      this.conflicts += sign;
    }
  }

  merge(other: Aggregate, sign = 1): this {
    this.resCount += sign * other.resCount;
    this.resSum.merge(other.resSum, sign);
    this.resSquares.merge(other.resSquares, sign);
    this.resHist.merge(other.resHist, sign);
    this.satCount += sign * other.satCount;
    this.satSum.merge(other.satSum, sign);
    this.satSquares.merge(other.satSquares, sign);
    this.satPositive += sign * other.satPositive;
    this.conflicts += sign * other.conflicts;
    this.resJudged += sign * other.resJudged;
    this.resWithin += sign * other.resWithin;
    return this;
  }

  /** Mean resolution days, rounded once from the exact sum; null without cases. */
  resMean(): number | null {
    return this.resCount > 0 ? this.resSum.dividedBy(this.resCount) : null;
  }

  /** Mean satisfaction score, rounded once from the exact sum; null without responses. */
  satMean(): number | null {
    return this.satCount > 0 ? this.satSum.dividedBy(this.satCount) : null;
  }

  /** A percentile of resolution days (see Histogram.quantile); null without cases. */
  resPercentile(q: number): number | null {
    return this.resHist.quantile(q);
  }

  /** Sample variance of resolution days; null below two cases. */
  resVariance(): number | null {
    return sampleVariance(this.resSum, this.resSquares, this.resCount);
  }

  /** Sample variance of satisfaction scores; null below two responses. */
  satVariance(): number | null {
    return sampleVariance(this.satSum, this.satSquares, this.satCount);
  }

  /** Roughly the bytes this aggregate holds. */
  footprint(): number {
    return (
      64 +
      this.resSum.footprint() +
      this.resSquares.footprint() +
      this.satSum.footprint() +
      this.satSquares.footprint() +
      this.resHist.footprint()
    );
  }

  static sum(parts: Iterable<Aggregate>): Aggregate {
    const total = new Aggregate();
    for (const part of parts) total.merge(part);
    return total;
  }
}
