/**
 * CSV as RFC 4180 writes it (fields quoted when they hold a comma, a quote or a line break; quotes
 * doubled; CRLF between records), with the contract's guard against formula injection (OWASP "CSV
 * Injection"): a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is
 * written with a leading `'`, so a spreadsheet shows it instead of running it. Numbers are written
 * as numbers (a negative number is a number, not a formula). Null is an empty cell.
 *
 * Written by hand rather than with csv-stringify: every cell needs the guard and its type's rule
 * anyway, and an export writes a million rows at a time, so the row is one string concatenation.
 */

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

export type Cell = string | number | null;

export function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRecord(cells: readonly Cell[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + csvCell(cells[i]);
  return `${line}\r\n`;
}
