/** Dimensions (issue 18): their GraphQL types and rules; programs.schema.ts takes them in createProgram and addDimension. */
import { fieldError, keyRule, RESERVED_KEYS } from '../events/attributes.js';
import { builder } from '../schema/builder.js';
import type { DimensionWithValues } from './dimensions.repository.js';

export const DEFAULT_MAX_VALUES = 1_000;
export const MAX_VALUES_LIMIT = 10_000;
/** Dimensions a program may declare: an event carries at most 8 of them, a program may know more. */
export const MAX_DIMENSIONS = 50;

export const DimensionRef = builder.objectRef<DimensionWithValues>('Dimension').implement({
  description:
    "An attribute that a program's events may carry. Keys: 1 to 32 of a-z, 0-9 and _, starting with a letter.",
  fields: (t) => ({
    key: t.exposeString('key'),
    label: t.exposeString('label'),
    maxValues: t.exposeInt('maxValues', {
      description: 'Distinct values the dimension may take; a new value past it is refused.',
    }),
    values: t.exposeStringList('values', { description: 'The values recorded so far, sorted.' }),
  }),
});

export const DimensionInput = builder.inputType('DimensionInput', {
  fields: (t) => ({
    key: t.string({ required: true }),
    label: t.string({ required: true }),
    maxValues: t.int({ defaultValue: DEFAULT_MAX_VALUES }),
  }),
});

export interface NewDimension {
  key: string;
  label: string;
  maxValues: number;
}

/**
 * Checks new dimensions against each other and against those the program has (`existing` keys);
 * `field(i)` names the input (`dimensions[2]`, or `input` for addDimension).
 */
export function checkDimensions(
  inputs: readonly { key: string; label: string; maxValues?: number | null }[],
  existing: readonly string[],
  field: (i: number) => string,
): NewDimension[] {
  const keys = new Set(existing);
  if (keys.size + inputs.length > MAX_DIMENSIONS)
    throw fieldError(
      inputs.length > 1 ? 'dimensions' : field(0),
      `a program may declare at most ${MAX_DIMENSIONS} dimensions`,
    );
  return inputs.map((input, i) => {
    const rule = keyRule(input.key);
    if (rule) throw fieldError(`${field(i)}.key`, rule);
    if (RESERVED_KEYS.has(input.key)) throw fieldError(`${field(i)}.key`, `"${input.key}" is reserved`);
    if (keys.has(input.key))
      throw fieldError(`${field(i)}.key`, `"${input.key}" is already a dimension of this program`);
    keys.add(input.key);
    const label = input.label.trim();
    if (label.length < 1 || label.length > 200) throw fieldError(`${field(i)}.label`, 'must be 1 to 200 characters');
    const maxValues = input.maxValues ?? DEFAULT_MAX_VALUES;
    if (!Number.isInteger(maxValues) || maxValues < 1 || maxValues > MAX_VALUES_LIMIT)
      throw fieldError(`${field(i)}.maxValues`, `must be an integer from 1 to ${MAX_VALUES_LIMIT}`);
    return { key: input.key, label, maxValues };
  });
}
