/**
 * The cost of an operation, counting list sizes: every field costs 1, an object field adds its
 * selection, and a list multiplies what it holds by how long it may be. GraphQL Armor's costLimit
 * multiplies only by literal `first`/`last` arguments, so it would count `alerts(limit: $n)` or a
 * 2,000-bucket series as one item; this estimate reads our `limit` arguments (variables included)
 * and a dashboard's range.
 *
 * It runs after validation with the operation's variables, before any resolver (see limits.ts).
 */
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isInputObjectType,
  isListType,
  isObjectType,
  Kind,
  typeFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { MAX_BUCKETS } from '../dashboards/dashboard.service.js';
import { DAY, HOUR, type Granularity } from '../kpis/time.js';

/** Assumed length of a list that no argument bounds (programs, targets, an alert's history...). */
export const UNBOUNDED_LIST_SIZE = 20;

/**
 * The shortest a bucket can be (a DST day is 23 hours), so a range's bucket count is never
 * underestimated.
 */
const SHORTEST_BUCKET: Record<Granularity, number> = {
  HOUR: HOUR,
  DAY: DAY - HOUR,
  WEEK: 7 * DAY - HOUR,
  MONTH: 28 * DAY - HOUR,
  QUARTER: 89 * DAY - HOUR,
  YEAR: 365 * DAY - HOUR,
};

type Args = Record<string, unknown>;

/**
 * Costs that no variable can change (the operation has no scalar or enum variable), by schema,
 * document and operation name: yoga hands the same parsed document for the same query text, so a
 * record mutation sent thousands of times a second is costed once.
 */
const fixedCosts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();

/**
 * The operation's cost, or null when its variables do not fit their types (execution then
 * refuses the operation itself, before any resolver).
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
): number | null {
  const known = fixedCosts
    .get(schema)
    ?.get(document)
    ?.get(operationName ?? '');
  if (known !== undefined) return known;
  const operation = getOperationAST(document, operationName);
  if (!operation) return null;
  const root = schema.getRootType(operation.operation);
  if (!root) return null;
  // Only scalar and enum variables can bound a list (limit, from, to, granularity). Input objects,
  // such as a batch's thousand events, are left to execution, which coerces them anyway.
  const definitions = (operation.variableDefinitions ?? []).filter((d) => {
    const type = typeFromAST(schema, d.type);
    return !type || !isInputObjectType(getNamedType(type));
  });
  const coerced = getVariableValues(schema, definitions, rawVariables ?? {});
  if (coerced.errors) return null;
  const variables = coerced.coerced;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }

  function selectionCost(set: SelectionSetNode, type: GraphQLObjectType, parentArgs: Args, seen: Set<string>): number {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, type, parentArgs, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (isObjectType(on)) cost += selectionCost(selection.selectionSet, on, parentArgs, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        const on = fragment && schema.getType(fragment.typeCondition.name.value);
        // Validation already refused cycles; `seen` only keeps a broken document from looping.
        if (fragment && isObjectType(on) && !seen.has(fragment.name.value)) {
          cost += selectionCost(fragment.selectionSet, on, parentArgs, new Set([...seen, fragment.name.value]));
        }
      }
    }
    return cost;
  }

  function fieldCost(node: FieldNode, parent: GraphQLObjectType, parentArgs: Args, seen: Set<string>): number {
    const name = node.name.value;
    // Introspection is answered from memory (and refused in production); __typename is free.
    if (name.startsWith('__')) return 0;
    const field = parent.getFields()[name];
    if (!field) return 0;
    let args: Args = {};
    // Only scalar and enum arguments bound a list; a field taking input objects (a record mutation)
    // is not read here, as its input-object variables were not coerced above.
    if (field.args.every((arg) => !isInputObjectType(getNamedType(arg.type)))) {
      try {
        args = getArgumentValues(field, node, variables);
      } catch {
        // A bad argument fails in execution, before any resolver.
      }
    }
    const type = getNamedType(field.type);
    const each = node.selectionSet && isObjectType(type) ? 1 + selectionCost(node.selectionSet, type, args, seen) : 1;
    return isListType(getNullableType(field.type)) ? listSize(field, args, parentArgs) * each : each;
  }

  const cost = operation.selectionSet ? selectionCost(operation.selectionSet, root, {}, new Set()) : 0;
  if (definitions.length === 0) {
    let byDocument = fixedCosts.get(schema);
    if (!byDocument) fixedCosts.set(schema, (byDocument = new WeakMap()));
    let byName = byDocument.get(document);
    if (!byName) byDocument.set(document, (byName = new Map()));
    byName.set(operationName ?? '', cost);
  }
  return cost;
}

/** How long a list field's answer may be, from its own arguments or its parent's. */
function listSize(field: GraphQLField<unknown, unknown>, args: Args, parentArgs: Args): number {
  if (typeof args.limit === 'number') return Math.max(1, args.limit);
  if (field.name === 'series') return seriesLength(parentArgs);
  return UNBOUNDED_LIST_SIZE;
}

/** A series has one point per bucket of its dashboard's range, at most MAX_BUCKETS. */
function seriesLength(dashboardArgs: Args): number {
  const { from, to, granularity } = dashboardArgs;
  if (typeof from !== 'number' || typeof to !== 'number' || typeof granularity !== 'string') return MAX_BUCKETS;
  const shortest = SHORTEST_BUCKET[granularity as Granularity];
  if (!shortest || to <= from) return 1;
  return Math.min(MAX_BUCKETS, Math.ceil((to - from) / shortest) + 1);
}
