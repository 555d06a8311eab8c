/** The GraphQL face of attribute filters: AttributeFilter and AttributeFilterInput. */
import { builder } from '../schema/builder.js';
import type { AttributeFilter } from './filter.js';

export const AttributeFilterRef = builder.objectRef<AttributeFilter>('AttributeFilter').implement({
  description: 'Events whose attribute `key` has one of `values`. Several filters: all must hold.',
  fields: (t) => ({ key: t.exposeString('key'), values: t.exposeStringList('values') }),
});

export const AttributeFilterInput = builder.inputType('AttributeFilterInput', {
  fields: (t) => ({ key: t.string({ required: true }), values: t.stringList({ required: true }) }),
});
