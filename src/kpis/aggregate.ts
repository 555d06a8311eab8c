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
   * An encoded histogram not decoded yet: a series point is usually one rollup row, whose
   * percentiles can be read from its bytes directly. While it is held the window is empty, and
   * `zeros` and `unbinned` hold what was added since (see encode: a row a commit rewrites).
   */
  private encoded: Uint8Array | null = null;
  /** The percentiles `encoded` stores answers to, when encode made it (null: as given, stored). */
  private heldFor: readonly number[] | null = null;
  /**
   * A buffer of this histogram's own, which encode writes its bytes into, and `encoded` is the start
   * of when `inRoom`: a row a commit rewrites is kept as its bytes (hold), and a buffer for them at
   * each commit cost the allocation and, as it outlived the commit, its promotion to the old generation.
   * Never given out but through encodeInPlace.
   */
  private room: Uint8Array | null = null;
  private inRoom = false;
  /**
   * Positive values added (negated when taken away) and not yet in the arrays: a commit adds each
   * event to a dozen deltas, whose windows would otherwise grow bin by bin; these are binned in
   * order (the same sums, bit for bit) into a window sized once, before anything reads the arrays.
   */
  private unbinned: number[] = [];

  add(value: number, sign = 1): void {
    if (value <= 0) this.zeros += sign;
    else if (this.unbinned.push(sign * value) >= UNBINNED_MAX) this.binPending();
  }

  private binPending(): void {
    const values = this.unbinned;
    if (values.length === 0) return;
    // Added after the encoded bins, so binned after them (the same sums, bit for bit).
    if (this.encoded) this.decodeHeld();
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
      this.zeros += sign * other.zeros;
      for (const v of other.unbinned) if (this.unbinned.push(sign * v) >= UNBINNED_MAX) this.binPending();
      return;
    }
    other.settle();
    if (other.encoded) {
      // A copy of bytes in the other's room, which its next encode rewrites.
      this.mergeEncoded(other.inRoom ? other.encoded.slice() : other.encoded, sign);
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
      this.heldFor = null;
      this.inRoom = false;
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
    for (let b = 0; b < bins; b++) {
      index += input.varint();
      const slot = index - low;
      const c = (counts[slot] += sign * input.varint());
      sums[slot] += sign * view.getFloat64(base + input.at, true);
      input.at += 8;
      if (Math.abs(c) < EMPTY) counts[slot] = sums[slot] = 0;
    }
  }

  /** Nearest-rank percentile: the smallest value v with at least q of all values ≤ v. */
  quantile(q: number): number | null {
    this.settle();
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

  /** Everything into the window: the encoded bins, then what was added since. */
  private decodePending(): void {
    if (this.encoded) this.decodeHeld();
    this.binPending();
  }

  /** Encoded bins with nothing added since stay as they are; otherwise everything goes into the window. */
  private settle(): void {
    if (this.encoded && this.zeros === 0 && this.unbinned.length === 0) return;
    this.decodePending();
  }

  private decodeHeld(): void {
    const bytes = this.encoded!;
    this.encoded = null;
    this.inRoom = false;
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
    const bytes = this.encodeInPlace(precomputed);
    return this.inRoom ? bytes.slice() : bytes;
  }

  /**
   * encode, as bytes valid only till this histogram next changes (they may be its own buffer's,
   * which the next encode rewrites): for a row written at once (kpis/rollups.repository.ts rowOf).
   */
  encodeInPlace(precomputed: readonly number[] = []): Uint8Array {
    if (this.encoded) {
      if (
        this.zeros === 0 &&
        this.unbinned.length === 0 &&
        (this.heldFor === null || sameList(this.heldFor, precomputed))
      )
        return this.encoded;
      if (this.unbinned.length <= SPLICE_MAX) {
        const length = SPLICER.splice(this.encoded, this.zeros, this.unbinned, precomputed);
        const room = this.roomFor(length);
        SPLICER.copyTo(room);
        return this.hold(room, length, precomputed);
      }
    }
    const length = this.encodeWindow(precomputed);
    const room = this.roomFor(length);
    room.set(scratch.subarray(0, length));
    return this.hold(room, length, precomputed);
  }

  /** This histogram's own buffer, grown if need be to hold `length` bytes. */
  private roomFor(length: number): Uint8Array {
    if (this.room === null || this.room.byteLength < length) this.room = new Uint8Array(length + (length >> 2) + 32);
    return this.room;
  }

  /**
   * Keeps the histogram as its encoding, the first `length` bytes of `room`: a row a commit rewrites
   * is kept in memory (write/written-rows.ts) and rewritten by the next commit with a few values
   * more, which Splicer adds to these bytes, copying the bins they leave as they are, rather than
   * encoding every bin of a window again.
   */
  private hold(room: Uint8Array, length: number, precomputed: readonly number[]): Uint8Array {
    this.encoded = room.subarray(0, length);
    this.inRoom = true;
    this.heldFor = precomputed;
    this.zeros = 0;
    this.unbinned.length = 0;
    this.low = 0;
    this.counts = this.sums = NO_BINS;
    return this.encoded;
  }

  /** Encodes the window (everything decoded into it first) into `scratch`; returns the length. */
  private encodeWindow(precomputed: readonly number[]): number {
    this.decodePending();
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
    return at;
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
    const encoded = this.inRoom ? 0 : (this.encoded?.byteLength ?? 0);
    return (
      64 +
      this.counts.byteLength +
      this.sums.byteLength +
      (this.room?.byteLength ?? 0) +
      encoded +
      8 * this.unbinned.length
    );
  }

  /** A copy, in the same state (values pending stay pending, in order). */
  copy(): Histogram {
    const copy = new Histogram();
    copy.zeros = this.zeros;
    copy.low = this.low;
    copy.counts = this.counts.length === 0 ? NO_BINS : this.counts.slice();
    copy.sums = this.sums.length === 0 ? NO_BINS : this.sums.slice();
    copy.encoded = this.inRoom ? this.encoded!.slice() : this.encoded;
    copy.heldFor = this.heldFor;
    copy.unbinned = this.unbinned.slice();
    return copy;
  }

  static decode(bytes: Uint8Array | null | undefined): Histogram {
    const histogram = new Histogram();
    histogram.mergeEncoded(bytes);
    return histogram;
  }
}

const PRECOMPUTE_FROM = 8;
const sameList = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
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
 * out, into the histogram's own buffer (Histogram.roomFor): a commit encodes thousands of rows, and
 * a fresh ArrayBuffer sized for the worst case, with its DataView, cost more than the encoding.
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

/** Most values Splicer adds to encoded bins; a histogram given more is encoded from its window. */
const SPLICE_MAX = 512;

/**
 * Writes the encoding (Histogram.encode) of a histogram held encoded, with `zeros` and `values`
 * added after it as Histogram.add and addBin add them: byte for byte what decoding, binning and
 * encoding the window would give. A bin no value falls in is copied as it is, runs of such bins
 * copied whole, so a row rewritten with a few values more costs a walk over its bytes rather than
 * a window's encoding; the answers to the percentiles asked are found on the way. One, reused (a
 * commit splices thousands of rows): its state lives in fields, not closures.
 */
class Splicer {
  /** The values' bins, and their order by bin. */
  private bins = new Int32Array(64);
  private order = new Int32Array(64);
  /** Where the bins are written, before the header (known once they are) goes in front. */
  private out = new Uint8Array(1 << 16);
  private view = new DataView(this.out.buffer);
  private old: Uint8Array = NO_BYTES;
  private values: readonly number[] = [];
  private next = 0;
  private at = 0;
  private written = 0;
  private first = 0;
  private previous = 0;
  /** Old bytes not copied yet, from `run` on (-1: none): bins kept as they are, each after the same one as before. */
  private run = -1;
  private seen = 0;
  private answerAt = 0;
  private headerLength = 0;
  private readonly ranks: number[] = [];
  /** Per percentile asked, its answer (null: none), undefined until found. */
  private readonly answers: (number | null | undefined)[] = [];

  splice(old: Uint8Array, zeros: number, values: readonly number[], precomputed: readonly number[]): number {
    const n = values.length;
    if (this.bins.length < n) {
      this.bins = new Int32Array(2 * n);
      this.order = new Int32Array(2 * n);
    }
    const { bins, order } = this;
    let added = zeros;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      bins[i] = binIndex(Math.abs(v));
      added += Math.sign(v);
      // Insertion sort by bin, stable: a bin's values are added in the order they came.
      let j = i;
      while (j > 0 && bins[order[j - 1]] > bins[i]) {
        order[j] = order[j - 1];
        j--;
      }
      order[j] = i;
    }
    scanHeader(old, -1);
    zeros += scanned.zeros;
    const total = scanned.total + added;
    const asked = precomputed.length;
    this.ranks.length = this.answers.length = asked;
    for (let a = 0; a < asked; a++) {
      const rank = nearestRank(precomputed[a], total);
      this.ranks[a] = rank;
      this.answers[a] = rank === 0 ? null : zeros >= rank - EMPTY ? 0 : undefined;
    }
    this.seen = zeros;
    this.nextAnswerAt();
    const input = READER.over(old, scanned.end);
    const oldBins = input.varint();
    let index = 0;
    let oldLast = 0;
    if (oldBins > 0) {
      index = input.varint();
      oldLast = index + input.varint();
    }
    let at = input.at;
    if (this.out.byteLength < old.byteLength + 19 * n) {
      this.out = new Uint8Array(2 * (old.byteLength + 19 * n));
      this.view = new DataView(this.out.buffer);
    }
    this.old = old;
    this.values = values;
    this.next = this.at = this.written = 0;
    this.run = -1;
    let oldIndex = index;
    for (let b = 0; b < oldBins; b++) {
      const start = at;
      index = oldIndex + input.varintAt(at);
      at = input.at;
      const count = input.varintAt(at);
      at = input.at;
      const sumAt = at;
      at += 8;
      while (this.next < n && bins[order[this.next]] < index) {
        this.flush(start);
        this.addValues(bins[order[this.next]], 0, 0);
      }
      if (this.next < n && bins[order[this.next]] === index) {
        this.flush(start);
        this.addValues(index, count, readFloat(old, sumAt));
      } else if (this.written > 0 ? this.previous === oldIndex && b > 0 : b === 0) {
        // As it was, after the same bin as before: its bytes are what encoding it would write.
        if (this.run < 0) this.run = start;
        if (this.written === 0) this.first = index;
        this.previous = index;
        this.written++;
        this.answer(count, 0, sumAt);
        // So are the bins after it up to the next value's: copied with it, their counts read for
        // the answers in a loop of their own, and not read at all once no value nor answer is left.
        const stop = this.next < n ? bins[order[this.next]] : Number.POSITIVE_INFINITY;
        if (stop === Number.POSITIVE_INFINITY && this.answerAt === Number.POSITIVE_INFINITY) {
          this.written += oldBins - 1 - b;
          this.previous = oldLast;
          at = old.byteLength;
          break;
        }
        oldIndex = index;
        while (b + 1 < oldBins) {
          let p = at;
          const bin = oldIndex + input.varintAt(p);
          p = input.at;
          if (bin >= stop) break;
          const c = input.varintAt(p);
          p = input.at;
          b++;
          oldIndex = this.previous = bin;
          this.written++;
          this.answer(c, 0, p);
          at = p + 8;
        }
        continue;
      } else {
        this.flush(start);
        const sum = readFloat(old, sumAt);
        this.put(index, count, sum);
        this.answer(count, sum, -1);
      }
      oldIndex = index;
    }
    this.flush(at);
    while (this.next < n) this.addValues(bins[order[this.next]], 0, 0);
    this.headerLength = this.writeHeader(zeros, total, this.written >= PRECOMPUTE_FROM ? precomputed : []);
    this.old = NO_BYTES;
    this.values = [];
    return this.headerLength + this.at;
  }

  /** Copies the last splice's bytes (its length, as splice returned it) to the start of `target`. */
  copyTo(target: Uint8Array): void {
    target.set(scratch.subarray(0, this.headerLength));
    target.set(this.out.subarray(0, this.at), this.headerLength);
  }

  private flush(end: number): void {
    const { run, old, out } = this;
    if (run < 0) return;
    if (end - run > 64) out.set(old.subarray(run, end), this.at);
    else for (let b = run, at = this.at; b < end; b++, at++) out[at] = old[b];
    this.at += end - run;
    this.run = -1;
  }

  /** Writes a bin anew: its step from the bin before, its count and its sum. */
  private put(bin: number, count: number, sum: number): void {
    if (this.written === 0) this.first = this.previous = bin;
    let at = putVarint(this.out, this.at, bin - this.previous);
    at = putVarint(this.out, at, count);
    this.view.setFloat64(at, sum, true);
    this.at = at + 8;
    this.previous = bin;
    this.written++;
  }

  /** Adds the values of bin `bin` (from the next in order on) to its count and sum, as addBin does; writes it unless emptied. */
  private addValues(bin: number, count: number, sum: number): void {
    const { bins, order, values } = this;
    while (this.next < values.length && bins[order[this.next]] === bin) {
      const v = values[order[this.next++]];
      count += Math.sign(v);
      sum += v;
      if (Math.abs(count) < EMPTY) count = sum = 0;
    }
    if (count === 0) return;
    this.put(bin, count, sum);
    this.answer(count, sum, -1);
  }

  /**
   * The answers a bin of `count` gives, as occupiedQuantile finds them: its sum is `sum`, or the old
   * bytes' float at `sumAt` (read only if it answers one).
   */
  private answer(count: number, sum: number, sumAt: number): void {
    if (count < EMPTY) return;
    this.seen += count;
    if (this.seen < this.answerAt) return;
    for (let a = 0; a < this.ranks.length; a++) {
      if (this.answers[a] !== undefined || this.seen < this.ranks[a] - EMPTY) continue;
      this.answers[a] = (sumAt < 0 ? sum : readFloat(this.old, sumAt)) / count;
    }
    this.nextAnswerAt();
  }

  /** The count seen at which the next answer is found (infinite once all are). */
  private nextAnswerAt(): void {
    this.answerAt = Number.POSITIVE_INFINITY;
    for (let a = 0; a < this.ranks.length; a++)
      if (this.answers[a] === undefined) this.answerAt = Math.min(this.answerAt, this.ranks[a] - EMPTY);
  }

  /** Writes the header into `scratch`; returns its length. */
  private writeHeader(zeros: number, total: number, answers: readonly number[]): number {
    const header = scratchOf(32 + answers.length * 12);
    header[0] = FORMAT;
    let h = putVarint(header, 1, zeros);
    h = putVarint(header, h, total);
    h = putVarint(header, h, answers.length);
    for (let a = 0; a < answers.length; a++) {
      h = putVarint(header, h, answerKey(answers[a]));
      scratchView.setFloat64(h, this.answers[a] ?? Number.NaN, true);
      h += 8;
    }
    h = putVarint(header, h, this.written);
    if (this.written > 0) {
      h = putVarint(header, h, this.first);
      h = putVarint(header, h, this.previous - this.first);
    }
    return h;
  }
}

/** The little-endian float64 at `at` in `bytes`. */
function readFloat(bytes: Uint8Array, at: number): number {
  for (let b = 0; b < 8; b++) FLOAT_BYTES[b] = bytes[at + b];
  return FLOAT[0];
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
  varint() {
    return this.varintAt(this.at);
  }
  /**
   * The varint at `at`, leaving the reader after it. One byte (nearly every bin step and count) is
   * decoded in place: the loops over a histogram's bins, decode's most of all, step with this.
   */
  varintAt(at: number) {
    const z = this.buffer[at];
    if (z < 128) {
      this.at = at + 1;
      return (z >> 1) ^ -(z & 1);
    }
    let n = 0;
    let scale = 1;
    let b: number;
    this.at = at;
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
    const value = readFloat(this.buffer, this.at);
    this.at += 8;
    return value;
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
const SPLICER = new Splicer();

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

  /** A copy that shares nothing this aggregate changes: the same sums, part for part, and histogram. */
  copy(): Aggregate {
    return Object.assign(new Aggregate(), {
      resCount: this.resCount,
      resSum: this.resSum.copy(),
      resSquares: this.resSquares.copy(),
      resHist: this.resHist.copy(),
      satCount: this.satCount,
      satSum: this.satSum.copy(),
      satSquares: this.satSquares.copy(),
      satPositive: this.satPositive,
      conflicts: this.conflicts,
      resJudged: this.resJudged,
      resWithin: this.resWithin,
    });
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
