/**
 * Epoch milliseconds as `Date.prototype.toISOString` writes them, for exports, which write two or
 * three instants a row. Our own because toISOString (a Date each, and its call) cost 1-2 µs on this
 * machine, most of a row's time; here a day's `YYYY-MM-DDT` is made once and reused, and the time
 * of day is arithmetic. Instants outside years 1970-9999 are left to toISOString.
 */
const DAY = 86_400_000;
/** 10000-01-01T00:00:00Z, where toISOString starts writing six-digit years. */
const YEAR_10000 = 253_402_300_800_000;

let cachedDay = Number.NaN;
let cachedPrefix = '';

const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const three = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

export function isoInstant(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY);
  if (day !== cachedDay) {
    cachedPrefix = new Date(day * DAY).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = ms - day * DAY;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  return `${cachedPrefix}${two(hours)}:${two(minutes)}:${two(seconds)}.${three(rest - seconds * 1000)}Z`;
}
