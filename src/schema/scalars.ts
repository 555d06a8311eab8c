import { Kind } from 'graphql';
import { DateTime } from 'luxon';
import { builder } from './builder.js';
import { badInput } from './errors.js';

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Parses an ISO-8601 instant that names its offset; a bare local time would be ambiguous. */
export function parseInstant(value: unknown, field = 'DateTime'): number {
  if (typeof value !== 'string' || !WITH_OFFSET.test(value)) {
    throw badInput(field, 'must be an ISO-8601 date-time with an offset, e.g. 2026-03-01T12:00:00Z');
  }
  const parsed = DateTime.fromISO(value, { setZone: true });
  if (!parsed.isValid) throw badInput(field, `is not a valid date-time (${parsed.invalidExplanation ?? parsed.invalidReason})`);
  return parsed.toMillis();
}

export const formatInstant = (ms: number) => new Date(ms).toISOString();

builder.scalarType('DateTime', {
  description:
    'An instant, as an ISO-8601 string with an offset. Output is always UTC with milliseconds: 2026-03-01T12:00:00.000Z',
  serialize: (value) => formatInstant(Number(value)),
  parseValue: (value) => parseInstant(value),
  parseLiteral: (ast) => parseInstant(ast.kind === Kind.STRING ? ast.value : undefined),
});
