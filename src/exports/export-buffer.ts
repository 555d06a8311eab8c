/**
 * An export's records written as bytes into a buffer that is written again for every page, for
 * the events export: a million rows built as strings (a template and a few cells each, joined per
 * page) kept V8's young generation busy enough to grow to its maximum, and the server's RSS with it
 * (issue 19: under 50 MB of growth for 1,000,000 rows). CSV cells follow csv.ts's rules: text goes
 * through csvCell, which returns an ordinary cell as the same string, so only the rare quoted or
 * guarded cell makes a string of its own.
 */
import { type Cell, csvCell } from './csv.js';
import { isoInstant, putIsoInstant } from './iso-instant.js';

const COMMA = 44;
const CR = 13;
const LF = 10;
const ZERO = 48;
/** Room ensured before a number or an instant: a double's String() is at most 25 characters. */
const NUMBER_ROOM = 32;

export class ExportBuffer {
  private bytes: Buffer;
  private at = 0;

  constructor(size = 256 * 1024) {
    // Outside V8's heap, and written over again and again.
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  /** What has been written since the last clear(), as a view: valid until the next write. */
  written(): Buffer {
    return this.bytes.subarray(0, this.at);
  }

  clear(): void {
    this.at = 0;
  }

  comma(): void {
    this.room(1);
    this.bytes[this.at++] = COMMA;
  }

  /** CSV's end of record: CRLF. */
  endRecord(): void {
    this.room(2);
    this.bytes[this.at++] = CR;
    this.bytes[this.at++] = LF;
  }

  /** NDJSON's end of line. */
  newline(): void {
    this.room(1);
    this.bytes[this.at++] = LF;
  }

  /** A cell, as csvCell writes it. */
  cell(value: Cell): void {
    if (value === null) return;
    if (typeof value === 'number') this.number(value);
    else this.text(csvCell(value));
  }

  /** A number cell, as csvCell writes it (String(n); empty unless finite); whole ones digit by digit. */
  number(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0 || Object.is(value, -0)) {
      if (Number.isFinite(value)) this.text(String(value));
      return;
    }
    this.room(NUMBER_ROOM);
    let digits = 1;
    for (let n = value; n >= 10; n = Math.floor(n / 10)) digits++;
    let n = value;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      this.bytes[i] = ZERO + (n % 10);
      n = Math.floor(n / 10);
    }
    this.at += digits;
  }

  /** An instant cell, as csvCell writes isoInstant's text; empty for null. */
  instant(ms: number | null): void {
    if (ms === null) return;
    this.room(NUMBER_ROOM);
    const end = putIsoInstant(this.bytes, this.at, Number(ms));
    // Outside years 1970-9999 the text may begin with a sign, which csvCell guards.
    if (end < 0) this.text(csvCell(isoInstant(Number(ms))));
    else this.at = end;
  }

  /** Text written as it is (a CSV cell once through csvCell): char by char while ASCII, else as UTF-8. */
  text(text: string): void {
    const length = text.length;
    this.room(length);
    const bytes = this.bytes;
    let at = this.at;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        this.room(Buffer.byteLength(text));
        this.at += this.bytes.write(text, this.at, 'utf8');
        return;
      }
      bytes[at++] = code;
    }
    this.at = at;
  }

  /** Makes room for `n` more bytes, keeping what is written. */
  private room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.at + n));
    this.bytes.copy(grown, 0, 0, this.at);
    this.bytes = grown;
  }
}
