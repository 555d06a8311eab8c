/**
 * The one rule set for recording, shared by the single mutations and the batch. A batch names the
 * event's index in the field (`events[3].value`), a single mutation the field itself.
 */
import type { EventKind } from '../db/types.js';
import { badInput } from '../schema/errors.js';
import { EVENT_VALUE_RANGES } from '../kpis/registry.js';
import { MINUTE } from '../kpis/time.js';
import { encodeAttributes, type Attribute } from './attributes.js';

export interface EventInput {
  kind: EventKind;
  programId: string;
  caseId: string;
  value?: number | null;
  reason?: string | null;
  occurredAt?: number | null;
  idempotencyKey?: string | null;
  attributes?: readonly Attribute[] | null;
}

export interface ValidEvent {
  kind: EventKind;
  programId: string;
  caseId: string;
  value: number | null;
  reason: string | null;
  occurredAt: number;
  /** Whether the caller named occurredAt; a defaulted time is not part of the idempotent payload. */
  occurredAtGiven: boolean;
  idempotencyKey: string | null;
  /** JSON (attributes.ts); null or absent for none. */
  attributes?: string | null;
}

export const MAX_FUTURE = 5 * MINUTE;
export const MAX_BATCH = 10_000;
/**
 * Whether `text` has from `min` to `max` characters (code points). A string of at most `max` UTF-16
 * units is within bounds without counting, so only long strings are spread (this runs per event).
 * `min` is 0 or 1, where units and code points agree.
 */
function lengthWithin(text: string, min: number, max: number): boolean {
  if (text.length < min) return false;
  return text.length <= max || [...text].length <= max;
}

/** No control, format, surrogate, private-use or unassigned characters. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]*$/u;

/** The error naming `${prefix}${name}`. A plain function, not a closure over prefix: this runs per event. */
function failure(prefix: string, name: string, rule: string) {
  if (!prefix) return badInput(name, rule);
  const error = badInput(`${prefix}${name}`, rule);
  error.message = `${prefix}${name}: ${name} ${rule}`;
  return error;
}

/**
 * `valueField` is what the caller called the value: `days`, `score`, or `value` in EventInput.
 * Throws BAD_USER_INPUT naming `${prefix}${field}` and the rule.
 */
export function validateEvent(input: EventInput, now: number, prefix = '', valueField?: string): ValidEvent {
  if (input.programId.length === 0) throw failure(prefix, 'programId', 'must not be empty');

  if (!lengthWithin(input.caseId, 1, 128)) throw failure(prefix, 'caseId', 'must be 1 to 128 characters');
  if (!PRINTABLE.test(input.caseId)) throw failure(prefix, 'caseId', 'must contain only printable characters');

  let value: number | null = null;
  const valueName = valueField ?? 'value';
  const range = EVENT_VALUE_RANGES[input.kind];
  if (range === null) {
    if (input.value != null) throw failure(prefix, valueName, `must be null for ${input.kind}`);
  } else {
    const { min, max } = range;
    if (input.value == null) throw failure(prefix, valueName, `is required for ${input.kind}`);
    if (!Number.isFinite(input.value)) throw failure(prefix, valueName, 'must be a finite number');
    if (input.value < min || input.value > max) throw failure(prefix, valueName, `must be between ${min} and ${max}`);
    value = input.value;
  }

  let reason: string | null = null;
  if (input.reason != null) {
    if (!lengthWithin(input.reason, 0, 1000)) throw failure(prefix, 'reason', 'must be at most 1000 characters');
    if (!PRINTABLE.test(input.reason.replace(/[\n\r\t]/g, ' '))) {
      throw failure(prefix, 'reason', 'must contain only printable characters');
    }
    reason = input.reason;
  }

  const occurredAtGiven = input.occurredAt != null;
  const occurredAt = input.occurredAt ?? now;
  if (occurredAt > now + MAX_FUTURE) throw failure(prefix, 'occurredAt', 'must be at most 5 minutes in the future');

  let idempotencyKey: string | null = null;
  if (input.idempotencyKey != null) {
    if (!lengthWithin(input.idempotencyKey, 1, 255))
      throw failure(prefix, 'idempotencyKey', 'must be 1 to 255 characters');
    idempotencyKey = input.idempotencyKey;
  }

  const attributes = encodeAttributes(input.attributes, prefix);

  return {
    kind: input.kind,
    programId: input.programId,
    caseId: input.caseId,
    value,
    reason,
    occurredAt,
    occurredAtGiven,
    idempotencyKey,
    attributes,
  };
}
