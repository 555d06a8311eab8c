/**
 * Exact sums of doubles, for the aggregate's sums and sums of squares: adding and then subtracting
 * any values leaves no residue, so an average after records and retractions is the average of the
 * live values, rounded once.
 *
 * The sum is held as a floating-point expansion: a short list of doubles whose exact (unrounded)
 * total is the sum, kept non-overlapping and in ascending magnitude by Shewchuk's grow-expansion
 * (the algorithm of Python's math.fsum). Every step is an error-free transformation (TwoSum), so
 * nothing is ever rounded away; the value is rounded only when asked for. Each part is at most half
 * an ulp of the next, so a sum spans at most ~40 parts, and sums of values between 1e-12 and 36,500
 * days hold 1 to 4. Kept by hand rather than taken from a library: the published packages
 * (robust-sum and the like) build a new array per operation, and this runs for every event written.
 */
const NO_PARTS: number[] = [];

export class ExactSum {
  /**
   * Non-overlapping, ascending in magnitude, no zeros; empty for 0. Shared NO_PARTS until the
   * first part: a read makes four sums per series point, and many stay 0.
   */
  private parts: number[] = NO_PARTS;

  /** Adds `x` exactly. */
  add(x: number): void {
    const p = this.parts;
    if (p === NO_PARTS) {
      if (x !== 0) this.parts = [x];
      return;
    }
    let kept = 0;
    for (let j = 0; j < p.length; j++) {
      let y = p[j];
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[kept++] = lo;
      x = hi;
    }
    if (x !== 0) p[kept++] = x;
    if (p.length !== kept) p.length = kept;
  }

  /** Adds `sign` × x² exactly. */
  addSquare(x: number, sign = 1): void {
    addProduct(this, x, x, sign);
  }

  /** Adds (sign 1) or subtracts (sign -1) another exact sum. */
  merge(other: ExactSum, sign = 1): void {
    const q = other.parts;
    for (let i = 0; i < q.length; i++) this.add(sign * q[i]);
  }

  /** The parts, smallest first (for exact products: see sampleVariance). */
  terms(): readonly number[] {
    return this.parts;
  }

  isZero(): boolean {
    return this.parts.length === 0;
  }

  /** The sum rounded once to the nearest double (ties to even), as math.fsum rounds it. */
  value(): number {
    const p = this.parts;
    let n = p.length;
    if (n === 0) return 0;
    let hi = p[--n];
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo !== 0) break;
    }
    // A remainder of exactly half an ulp was rounded to even: the parts below decide which way it goes.
    if (n > 0 && ((lo < 0 && p[n - 1] < 0) || (lo > 0 && p[n - 1] > 0))) {
      const y = lo * 2;
      const x = hi + y;
      if (y === x - hi) hi = x;
    }
    return hi;
  }

  /**
   * The sum divided by `n`, rounded once to the nearest double (ties to even), so a mean that is a
   * double comes out as that double (a target equal to it is met). The quotient of the rounded sum,
   * corrected by the exact remainder, is within an ulp; the midpoints beside it are then compared
   * with the exact sum, because the correction is itself rounded and can miss a near-tie.
   */
  dividedBy(n: number): number {
    // A sum that is one double: IEEE division rounds its quotient once, to nearest, ties to even.
    if (this.parts.length <= 1) return (this.parts[0] ?? 0) / n;
    let q = this.value() / n;
    if (!Number.isFinite(q) || q === 0) return q;
    // sum − q·n, exactly.
    const remainder = REMAINDER.copyOf(this);
    addProduct(remainder, q, n, -1);
    q += remainder.value() / n;
    const up = nextAfter(q, 1);
    const above = this.sideOfMidpoint(q, up, n);
    if (above > 0) return up;
    if (above === 0) return even(q, up);
    const down = nextAfter(q, -1);
    const below = this.sideOfMidpoint(down, q, n);
    if (below < 0) return down;
    if (below === 0) return even(down, q);
    return q;
  }

  /** The sign of sum/n − (a + b)/2, exactly: of 2·sum − a·n − b·n. */
  private sideOfMidpoint(a: number, b: number, n: number): number {
    const twice = TWICE.copyOf(this);
    twice.merge(this);
    addProduct(twice, a, n, -1);
    addProduct(twice, b, n, -1);
    return Math.sign(twice.value());
  }

  copy(): ExactSum {
    const copy = new ExactSum();
    copy.parts = this.parts.slice();
    return copy;
  }

  /** Makes this sum `other`'s copy, in this sum's own array (dividedBy's scratch sums). */
  private copyOf(other: ExactSum): this {
    if (this.parts === NO_PARTS) this.parts = [];
    const p = this.parts;
    const q = other.parts;
    // Overwritten in place and pushed, never lengthened (an array with holes would make add()
    // polymorphic) nor emptied (that drops its store, and each push after would allocate anew).
    for (let i = 0; i < q.length; i++) {
      if (i < p.length) p[i] = q[i];
      else p.push(q[i]);
    }
    if (p.length > q.length) p.length = q.length;
    return this;
  }

  /** The parts as little-endian float64s, smallest first; no bytes for 0. */
  encode(): Uint8Array {
    const p = this.parts;
    // Pooled (Node's small buffers): a commit encodes four sums for each of thousands of rows.
    const out = Buffer.allocUnsafe(8 * p.length);
    for (let i = 0; i < p.length; i++) {
      SCRATCH[0] = p[i];
      out.set(SCRATCH_BYTES, 8 * i);
    }
    return out;
  }

  /**
   * Adds (sign 1) or subtracts (sign -1) an encoded sum, without building an object for it: the
   * bytes from `start` to `end` (a rollup read decodes every row's blobs into one array).
   */
  mergeEncoded(bytes: Uint8Array | null | undefined, sign = 1, start = 0, end = bytes?.byteLength ?? 0): void {
    if (!bytes) return;
    for (let at = start; at + 8 <= end; at += 8) {
      for (let b = 0; b < 8; b++) SCRATCH_BYTES[b] = bytes[at + b];
      this.add(sign * SCRATCH[0]);
    }
  }

  static decode(bytes: Uint8Array | null | undefined): ExactSum {
    const sum = new ExactSum();
    sum.mergeEncoded(bytes);
    return sum;
  }

  /** Roughly the bytes this sum holds. */
  footprint(): number {
    return 32 + 8 * this.parts.length;
  }
}

/**
 * dividedBy's working sums, reused: a breakdown's series divides two sums for each of 18,250
 * points, and copies of them were most of what it allocated. dividedBy calls nothing that uses them.
 */
const REMAINDER = new ExactSum();
const TWICE = new ExactSum();

const BITS = new Float64Array(1);
/** The double's bits as two 32-bit words, low word first (little-endian, as above). */
const WORDS = new Uint32Array(BITS.buffer);

/** The neighbouring double of a finite, non-zero `x` towards +∞ (direction 1) or −∞ (direction -1). */
function nextAfter(x: number, direction: 1 | -1): number {
  BITS[0] = x;
  // A double's bits, read as an integer, step by one ulp: up in magnitude on x's own side of zero.
  // The 64-bit step is taken on two words, with the carry: BigInt arithmetic allocates each value.
  const low = WORDS[0];
  if (x > 0 === direction > 0) {
    WORDS[0] = low + 1;
    if (low === 0xffffffff) WORDS[1] += 1;
  } else {
    WORDS[0] = low - 1;
    if (low === 0) WORDS[1] -= 1;
  }
  return BITS[0];
}

/** Of two neighbouring doubles, the one whose last mantissa bit is 0. */
function even(a: number, b: number): number {
  BITS[0] = a;
  return (WORDS[0] & 1) === 0 ? a : b;
}

/** 2^27 + 1: splits a double into two halves of 26 bits whose products are exact. */
const SPLITTER = 134_217_729;
const SCRATCH = new Float64Array(1);
/** Float64Array is little-endian on every platform Node runs on (x64, arm64). */
const SCRATCH_BYTES = new Uint8Array(SCRATCH.buffer);

/** Sample variance from exact sums: (n·Σx² − (Σx)²) / (n(n−1)), the numerator exact; null below two values. */
export function sampleVariance(sum: ExactSum, squares: ExactSum, n: number): number | null {
  if (n < 2) return null;
  const numerator = new ExactSum();
  // n·Σx², part by part (each product and its rounding error exact), less (Σx)², pair by pair.
  for (const part of squares.terms()) addProduct(numerator, part, n, 1);
  const parts = sum.terms();
  for (let i = 0; i < parts.length; i++)
    for (let j = 0; j < parts.length; j++) addProduct(numerator, parts[i], parts[j], -1);
  return Math.max(0, numerator.value()) / (n * (n - 1));
}

/** Adds sign × a·b exactly: the rounded product and its rounding error (Dekker's product, exact unless it underflows, below 1e-290 or so). */
function addProduct(target: ExactSum, a: number, b: number, sign: number): void {
  const product = a * b;
  const ca = SPLITTER * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = SPLITTER * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  const error = ah * bh - product + ah * bl + al * bh + al * bl;
  target.add(sign * product);
  if (error !== 0) target.add(sign * error);
}
