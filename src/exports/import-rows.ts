/**
 * The rows of an import body (`POST /import/events`), read as they stream in: CSV through
 * csv-parse, NDJSON one line at a time. Each row becomes an `EventInput` (the record mutations'
 * input) or the error that refused it, with its line number as in the file (the header and every
 * physical line counted, so a quoted newline inside a field moves the lines after it). Nothing is
 * held beyond the row being read: memory stays flat whatever the body's length.
 */
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { EventKind } from '../db/types.js';
import type { Attribute } from '../events/attributes.js';
import type { EventInput } from '../events/validate.js';
import { EVENT_KINDS } from '../kpis/registry.js';
import { parseInstant } from '../schema/scalars.js';

export interface RowError {
  line: number;
  /** The column (CSV) or field (NDJSON) at fault; null for the row as a whole. */
  field: string | null;
  message: string;
}

/** One row: its input, or why it was refused. `fatal`: the body cannot be read past it. */
export type ImportRow =
  | { line: number; input: EventInput; columns?: readonly string[] }
  | { line: number; error: RowError; fatal?: boolean };

/** A header the import cannot take: the whole request is refused (400) before any row is stored. */
export class BadHeader extends Error {}

/** A row (a CSV record or an NDJSON line) longer than this ends the import: memory stays bounded. */
export const MAX_ROW_BYTES = 1024 * 1024;

const KINDS = new Set<string>(EVENT_KINDS);
const REQUIRED = ['kind', 'programId', 'caseId'] as const;
const OPTIONAL = new Set(['value', 'reason', 'occurredAt', 'idempotencyKey']);
const ATTRIBUTE_COLUMN = /^attr\.(.+)$/;

const rowError = (line: number, field: string | null, message: string): ImportRow => ({
  line,
  error: { line, field, message },
});

class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** `value` as a number: the whole cell must be one (an empty cell is null). */
function numberOf(text: string, field: string): number | null {
  if (text === '') return null;
  const n = Number(text);
  if (text.trim() !== text || Number.isNaN(n)) throw new FieldError(field, `${field} must be a number`);
  return n;
}

function kindOf(text: unknown): EventKind {
  if (typeof text !== 'string' || !KINDS.has(text))
    throw new FieldError('kind', `kind must be one of ${EVENT_KINDS.join(', ')}`);
  return text as EventKind;
}

function instantOf(text: unknown): number {
  try {
    return parseInstant(text, 'occurredAt');
  } catch (error) {
    throw new FieldError('occurredAt', (error as Error).message);
  }
}

/**
 * CSV rows. The header names the columns (`kind`, `programId`, `caseId` required; `value`, `reason`,
 * `occurredAt`, `idempotencyKey`, `attr.<key>` optional), in any order; any other column refuses the
 * request (BadHeader). A UTF-8 BOM and CRLF or LF line ends are taken; empty lines are skipped.
 * `programId`: when the request names one, the column may be left out.
 */
export async function* csvRows(body: Readable, programId: string | null): AsyncGenerator<ImportRow> {
  const parser = parse({
    bom: true,
    raw: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: MAX_ROW_BYTES,
  });
  // Not stream.pipeline: a refused header or a fatal row ends the parser, and must not destroy the
  // request (its answer still goes out on that socket). A body cut off fails the parser.
  body.pipe(parser);
  body.once('error', (error) => parser.destroy(error));
  body.once('close', () => {
    if (!(body as { complete?: boolean }).complete) parser.destroy(new Error('the request body was cut off'));
  });
  let columns: string[] | null = null;
  let line = 1;
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const at = line;
      line += linesOf(raw);
      if (record.length === 1 && record[0] === '' && !raw.startsWith('"')) continue;
      if (!columns) {
        columns = checkHeader(record, programId);
        continue;
      }
      yield csvRow(at, record, columns, programId);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    // The client went away, or the stream failed: that is not a row's fault.
    if (!code?.startsWith('CSV_')) throw error;
    const message =
      code === 'CSV_MAX_RECORD_SIZE'
        ? `the row is longer than ${MAX_ROW_BYTES} bytes; the rest of the file was not read`
        : `${(error as Error).message}; the rest of the file was not read`;
    yield { line, error: { line, field: null, message }, fatal: true };
    return;
  }
  if (!columns) throw new BadHeader('the CSV has no header row');
}

/** The physical lines a record spans: its raw text ends with (part of) its delimiter. */
function linesOf(raw: string): number {
  let n = 1;
  for (let i = raw.indexOf('\n'); i !== -1 && i < raw.length - 1; i = raw.indexOf('\n', i + 1)) n++;
  return n;
}

function checkHeader(header: string[], programId: string | null): string[] {
  const seen = new Set<string>();
  header.forEach((name, i) => {
    const known = (REQUIRED as readonly string[]).includes(name) || OPTIONAL.has(name) || ATTRIBUTE_COLUMN.test(name);
    if (!known)
      throw new BadHeader(
        `column ${i + 1} "${name}" is not an import column (kind, programId, caseId, value, reason, occurredAt, idempotencyKey, attr.<key>)`,
      );
    if (seen.has(name)) throw new BadHeader(`column "${name}" is given more than once`);
    seen.add(name);
  });
  for (const name of REQUIRED) {
    if (!seen.has(name) && !(name === 'programId' && programId !== null))
      throw new BadHeader(`the header has no "${name}" column`);
  }
  return header;
}

function csvRow(line: number, record: string[], columns: string[], programId: string | null): ImportRow {
  if (record.length !== columns.length)
    return rowError(line, null, `the row has ${record.length} fields, the header ${columns.length}`);
  const input: Partial<EventInput> & { attributes: Attribute[] } = { attributes: [] };
  const attributeColumns: string[] = [];
  try {
    for (let i = 0; i < columns.length; i++) {
      const name = columns[i];
      const cell = record[i];
      switch (name) {
        case 'kind':
          input.kind = kindOf(cell);
          break;
        case 'programId':
          input.programId = cell;
          break;
        case 'caseId':
          input.caseId = cell;
          break;
        case 'value':
          input.value = numberOf(cell, 'value');
          break;
        case 'reason':
          input.reason = cell === '' ? null : cell;
          break;
        case 'occurredAt':
          input.occurredAt = cell === '' ? null : instantOf(cell);
          break;
        case 'idempotencyKey':
          input.idempotencyKey = cell === '' ? null : cell;
          break;
        default:
          // An empty cell: the event has no such attribute.
          if (cell !== '') {
            input.attributes.push({ key: name.slice(5), value: cell });
            attributeColumns.push(name);
          }
      }
    }
  } catch (error) {
    if (error instanceof FieldError) return rowError(line, error.field, error.message);
    throw error;
  }
  return { line, input: withProgram(input as EventInput, programId), columns: attributeColumns };
}

/** The request's programId where the row names none; a row naming another is left for the access check. */
function withProgram(input: EventInput, programId: string | null): EventInput {
  if (programId !== null && (input.programId === undefined || input.programId === '')) input.programId = programId;
  return input;
}

const EVENT_FIELDS = new Set([
  'kind',
  'programId',
  'caseId',
  'value',
  'reason',
  'occurredAt',
  'idempotencyKey',
  'attributes',
]);

/** NDJSON rows: one `EventInput` object per line (blank lines skipped), as `recordEvents` takes it. */
export async function* ndjsonRows(body: Readable, programId: string | null): AsyncGenerator<ImportRow> {
  let line = 0;
  for await (const text of lines(body)) {
    line++;
    if (text === null) {
      yield {
        line,
        error: { line, field: null, message: `the line is longer than ${MAX_ROW_BYTES} bytes; the rest was not read` },
        fatal: true,
      };
      return;
    }
    const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (trimmed === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      yield rowError(line, null, `the line is not JSON (${(error as Error).message})`);
      continue;
    }
    yield ndjsonRow(line, parsed, programId);
  }
}

function ndjsonRow(line: number, parsed: unknown, programId: string | null): ImportRow {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return rowError(line, null, 'the line must be a JSON object (an EventInput)');
  const object = parsed as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!EVENT_FIELDS.has(key)) return rowError(line, key, `${key} is not a field of EventInput`);
  }
  try {
    const string = (field: string, required: boolean): string | null => {
      const value = object[field];
      if (value == null) {
        if (required) throw new FieldError(field, `${field} is required`);
        return null;
      }
      if (field === 'programId' && typeof value === 'number') return String(value);
      if (typeof value !== 'string') throw new FieldError(field, `${field} must be a string`);
      return value;
    };
    const value = object.value;
    if (value != null && typeof value !== 'number') throw new FieldError('value', 'value must be a number');
    const input: EventInput = {
      kind: kindOf(object.kind),
      programId: string('programId', programId === null) ?? programId!,
      caseId: string('caseId', true)!,
      value: (value as number | null | undefined) ?? null,
      reason: string('reason', false),
      occurredAt: object.occurredAt == null ? null : instantOf(object.occurredAt),
      idempotencyKey: string('idempotencyKey', false),
      attributes: attributesOf(object.attributes),
    };
    return { line, input };
  } catch (error) {
    if (error instanceof FieldError) return rowError(line, error.field, error.message);
    throw error;
  }
}

function attributesOf(value: unknown): Attribute[] | null {
  if (value == null) return null;
  if (!Array.isArray(value)) throw new FieldError('attributes', 'attributes must be a list of { key, value }');
  return value.map((item, i) => {
    const { key, value: v, ...rest } = (item ?? {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof v !== 'string' || Object.keys(rest).length > 0)
      throw new FieldError(`attributes[${i}]`, `attributes[${i}] must be { key, value } with two strings`);
    return { key, value: v };
  });
}

/**
 * The body's lines (LF or CRLF), decoded as UTF-8; null for a line past MAX_ROW_BYTES, after
 * which nothing more is read. The last line counts even without a final newline.
 */
async function* lines(body: Readable): AsyncGenerator<string | null> {
  let pending: Buffer[] = [];
  let size = 0;
  // Returning early (a fatal line) leaves the request open: its answer still goes out on that socket.
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      size += end - start;
      if (size > MAX_ROW_BYTES) return yield null;
      const piece = chunk.subarray(start, end);
      const text = pending.length === 0 ? piece.toString('utf8') : Buffer.concat([...pending, piece]).toString('utf8');
      pending = [];
      size = 0;
      yield text.endsWith('\r') ? text.slice(0, -1) : text;
      start = end + 1;
    }
    if (start < chunk.length) {
      size += chunk.length - start;
      if (size > MAX_ROW_BYTES) return yield null;
      pending.push(chunk.subarray(start));
    }
  }
  if (size > 0) {
    const text = Buffer.concat(pending).toString('utf8');
    yield text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}
