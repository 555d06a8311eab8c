/**
 * Attribute filters (issue 18): `key` has one of `values`; several must all hold. One normal form
 * (keys sorted, a key given twice narrowed to the values both allow, values sorted and unique),
 * so equal filters compare equal (targets, live scopes) and the reads choose their path on it.
 */
import { fieldError, keyRule, valueRule } from '../events/attributes.js';

export interface AttributeFilter {
  key: string;
  values: string[];
}

export const MAX_FILTER_VALUES = 1_000;
export const MAX_FILTERS = 8;

/** Checks a filter's shape (`field`: the argument's name) and returns its normal form. */
export function normalizeFilter(
  input: readonly { key: string; values: readonly string[] }[] | null | undefined,
  field = 'filter',
): AttributeFilter[] {
  if (!input || input.length === 0) return [];
  if (input.length > MAX_FILTERS) throw fieldError(field, `must hold at most ${MAX_FILTERS} filters`);
  const byKey = new Map<string, Set<string>>();
  for (const [i, { key, values }] of input.entries()) {
    const rule = keyRule(key);
    if (rule) throw fieldError(`${field}[${i}].key`, rule);
    if (values.length < 1 || values.length > MAX_FILTER_VALUES)
      throw fieldError(`${field}[${i}].values`, `must hold 1 to ${MAX_FILTER_VALUES} values`);
    for (const [j, value] of values.entries()) {
      const bad = valueRule(value);
      if (bad) throw fieldError(`${field}[${i}].values[${j}]`, bad);
    }
    const earlier = byKey.get(key);
    byKey.set(key, earlier ? new Set(values.filter((v) => earlier.has(v))) : new Set(values));
  }
  return [...byKey]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, values]) => ({ key, values: [...values].sort() }));
}

/** The normal form as text: '' for no filter. Stored with targets and rules, and part of live scope keys. */
export function filterKey(filter: readonly AttributeFilter[]): string {
  return filter.length === 0 ? '' : JSON.stringify(filter.map((f) => [f.key, f.values]));
}

export function parseFilterKey(text: string | null | undefined): AttributeFilter[] {
  if (!text) return [];
  return (JSON.parse(text) as [string, string[]][]).map(([key, values]) => ({ key, values }));
}

/** Whether an event's attributes satisfy every filter. */
export function matcher(filter: readonly AttributeFilter[]): (attributes: Record<string, string>) => boolean {
  const sets = filter.map((f) => [f.key, new Set(f.values)] as const);
  return (attributes) => {
    for (const [key, values] of sets) {
      const value = attributes[key];
      if (value === undefined || !values.has(value)) return false;
    }
    return true;
  };
}

/**
 * Whether every event that satisfies `inner` satisfies `outer` too (both in normal form): each key
 * `outer` names, `inner` names as well, with values among `outer`'s. Decided on the filters alone,
 * never on the events stored.
 */
export function implies(inner: readonly AttributeFilter[], outer: readonly AttributeFilter[]): boolean {
  const innerValues = new Map(inner.map((f) => [f.key, f.values]));
  return outer.every((f) => {
    const values = innerValues.get(f.key);
    if (!values) return false;
    const allowed = new Set(f.values);
    return values.every((v) => allowed.has(v));
  });
}
