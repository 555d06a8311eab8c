/**
 * Epoch milliseconds as `Date.prototype.toISOString` writes them, for exports, which write two or
 * three instants a row. Our own because toISOString (a Date each, and its call) cost 1-2 µs on this
 * machine, most of a row's time; here a day's `YYYY-MM-DDT` is made once and reused, and the time
 * of day is arithmetic. Instants outside years 1970-9999 are left to toISOString. As a string
 * (isoInstant), or written as ASCII into a buffer (putIsoInstant: the CSV export, which builds no
 * string a row).
 */
const DAY = 86_400_000;
/** 10000-01-01T00:00:00Z, where toISOString starts writing six-digit years. */
const YEAR_10000 = 253_402_300_800_000;

let cachedDay = Number.NaN;
let cachedPrefix = '';
/** The prefix's 11 ASCII bytes. */
const prefixBytes = new Uint8Array(11);

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

const inFastRange = (ms: number) => ms >= 0 && ms < YEAR_10000 && Number.isInteger(ms);

/** The day of `ms` (in the fast range), its prefix cached. */
function dayOf(ms: number): number {
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
    for (let i = 0; i < 11; i++) prefixBytes[i] = cachedPrefix.charCodeAt(i);
    cachedDay = day;
  }
  return day;
}

export function isoInstant(ms: number): string {
  if (!inFastRange(ms)) return new Date(ms).toISOString();
  const day = dayOf(ms);
  let rest = ms - day * DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${cachedPrefix}${two(hours)}:${two(minutes)}:${two(seconds)}.${three(rest - seconds * 1000)}Z`;
}

const ZERO = 48;
const COLON = 58;
const DOT = 46;
const Z = 90;

/**
 * Writes isoInstant(ms) at `at` of `out`, which has room for its 24 bytes, and returns the end; -1,
 * writing nothing, for an instant outside years 1970-9999 (the caller writes isoInstant's text).
 */
export function putIsoInstant(out: Uint8Array, at: number, ms: number): number {
  if (!inFastRange(ms)) return -1;
  const day = dayOf(ms);
  out.set(prefixBytes, at);
  let rest = ms - day * DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  out[at + 11] = ZERO + Math.floor(hours / 10);
  out[at + 12] = ZERO + (hours % 10);
  out[at + 13] = COLON;
  out[at + 14] = ZERO + Math.floor(minutes / 10);
  out[at + 15] = ZERO + (minutes % 10);
  out[at + 16] = COLON;
  out[at + 17] = ZERO + Math.floor(seconds / 10);
  out[at + 18] = ZERO + (seconds % 10);
  out[at + 19] = DOT;
  out[at + 20] = ZERO + Math.floor(millis / 100);
  out[at + 21] = ZERO + (Math.floor(millis / 10) % 10);
  out[at + 22] = ZERO + (millis % 10);
  out[at + 23] = Z;
  return at + 24;
}
