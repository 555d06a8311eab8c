/**
 * An event's attributes (issue 18): their rules, and the one form they are stored and sent between
 * threads in: JSON of an object, in the caller's order (so an error can name the caller's index).
 * Idempotency compares them sorted by key (sortedAttributes), so order never makes a conflict.
 */
import { badInput } from '../schema/errors.js';

export interface Attribute {
  key: string;
  value: string;
}

export const MAX_ATTRIBUTES = 8;
/** 1 to 32 of a-z, 0-9 and _, starting with a letter. */
export const DIMENSION_KEY = /^[a-z][a-z0-9_]{0,31}$/;
/** Breakdowns by program use this name, so no dimension may take it. */
export const RESERVED_KEYS = new Set(['program']);
const MAX_VALUE_LENGTH = 128;
/** No control, format, surrogate, private-use or unassigned characters. */
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]*$/u;

/** BAD_USER_INPUT naming `field`: `field: rule` (the contract's `events[7].attributes[0].key: …`). */
export function fieldError(field: string, rule: string) {
  const error = badInput(field, rule);
  error.message = `${field}: ${rule}`;
  return error;
}

/** Whether `value` may be an attribute's (or a filter's) value: 1 to 128 printable characters. */
export function valueRule(value: string): string | null {
  if (value.length < 1 || (value.length > MAX_VALUE_LENGTH && [...value].length > MAX_VALUE_LENGTH))
    return `must be 1 to ${MAX_VALUE_LENGTH} characters`;
  if (!PRINTABLE.test(value)) return 'must contain only printable characters';
  return null;
}

export function keyRule(key: string): string | null {
  if (!DIMENSION_KEY.test(key)) return 'must be 1 to 32 of a-z, 0-9 and _, starting with a letter';
  return null;
}

/**
 * Checks the shape of an event's attributes (that each key is declared is checked against the
 * program, in events.schema.ts); returns their JSON, or null for none. `prefix` is `events[3].`
 * in a batch.
 */
export function encodeAttributes(attributes: readonly Attribute[] | null | undefined, prefix = ''): string | null {
  if (attributes == null || attributes.length === 0) return null;
  if (attributes.length > MAX_ATTRIBUTES)
    throw fieldError(`${prefix}attributes`, `must hold at most ${MAX_ATTRIBUTES} attributes`);
  const seen = new Set<string>();
  for (const [i, { key, value }] of attributes.entries()) {
    const rule = keyRule(key);
    if (rule) throw fieldError(`${prefix}attributes[${i}].key`, rule);
    if (seen.has(key)) throw fieldError(`${prefix}attributes[${i}].key`, `"${key}" is given more than once`);
    seen.add(key);
    const bad = valueRule(value);
    if (bad) throw fieldError(`${prefix}attributes[${i}].value`, bad);
  }
  const object: Record<string, string> = {};
  for (const { key, value } of attributes) object[key] = value;
  return JSON.stringify(object);
}

/** Most attribute texts attributeEntries keeps parsed; all are forgotten once it holds this many. */
const PARSED_MAX = 10_000;
const parsed = new Map<string, readonly (readonly [string, string])[]>();

/**
 * The stored attributes' [key, value] pairs, in the caller's order, shared: the caller must not
 * change them. The write path reads each event's attributes twice (the values a commit claims, the
 * rollups it folds them into), and a program's events repeat a bounded set of combinations (the
 * bench's: 5,000), so each text is parsed once and kept, up to PARSED_MAX of them (about 3 MB).
 */
export function attributeEntries(json: string): readonly (readonly [string, string])[] {
  let entries = parsed.get(json);
  if (entries === undefined) {
    if (parsed.size >= PARSED_MAX) parsed.clear();
    entries = Object.entries(JSON.parse(json) as Record<string, string>);
    parsed.set(json, entries);
  }
  return entries;
}

/** The same attributes in one order whatever the caller's: what idempotency compares. */
export function sortedAttributes(json: string): [string, string][] {
  return Object.entries(JSON.parse(json) as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The stored attributes back as a list, in the caller's order. */
export function parseAttributes(json: string | null | undefined): Attribute[] {
  if (!json) return [];
  return Object.entries(JSON.parse(json) as Record<string, string>).map(([key, value]) => ({ key, value }));
}

/** The stored attributes as an object: key → value (empty for none). */
export function attributeMap(json: string | null | undefined): Record<string, string> {
  return json ? (JSON.parse(json) as Record<string, string>) : {};
}
