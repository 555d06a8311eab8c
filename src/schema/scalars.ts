import { Kind } from 'graphql';
import { DateTime } from 'luxon';
import { builder } from './builder.js';
import { badInput } from './errors.js';

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Parses an ISO-8601 instant that names its offset; a bare local time would be ambiguous. */
export function parseInstant(value: unknown, field = 'DateTime'): number {
  const utc = typeof value === 'string' ? parseUtc(value) : null;
  if (utc !== null) return utc;
  if (typeof value !== 'string' || !WITH_OFFSET.test(value)) {
    throw badInput(field, 'must be an ISO-8601 date-time with an offset, e.g. 2026-03-01T12:00:00Z');
  }
  const parsed = DateTime.fromISO(value, { setZone: true });
  if (!parsed.isValid) throw badInput(field, `is not a valid date-time (${parsed.invalidExplanation ?? parsed.invalidReason})`);
  return parsed.toMillis();
}

const UTC_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?Z$/;

/**
 * The common form, `2026-03-01T12:00:00.000Z`, without Luxon: batches carry thousands of these
 * and Luxon's parser cost more than storing the event. Null for anything else (Luxon decides),
 * including dates that do not exist, such as February 30.
 */
function parseUtc(value: string): number | null {
  const m = UTC_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second = 0] = m.slice(1, 7).map(Number);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const d = new Date(t);
  const exists =
    d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day &&
    d.getUTCHours() === hour && d.getUTCMinutes() === minute && d.getUTCSeconds() === second;
  return exists && year >= 1000 ? t : null;
}

export const formatInstant = (ms: number) => new Date(ms).toISOString();

builder.scalarType('DateTime', {
  description:
    'An instant, as an ISO-8601 string with an offset. Output is always UTC with milliseconds: 2026-03-01T12:00:00.000Z',
  serialize: (value) => formatInstant(Number(value)),
  parseValue: (value) => parseInstant(value),
  parseLiteral: (ast) => parseInstant(ast.kind === Kind.STRING ? ast.value : undefined),
});
