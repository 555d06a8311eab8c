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
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isInputObjectType,
  isListType,
  isObjectType,
  Kind,
  typeFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type InlineFragmentNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { MAX_BUCKETS } from '../dashboards/dashboard.service.js';
import { MAX_PAGE } from '../events/drilldown.service.js';
import { GRANULARITIES, type Granularity, mostBucketsIn } from '../kpis/time.js';

/** Assumed length of a list that no argument bounds (programs, targets, an alert's history...). */
export const UNBOUNDED_LIST_SIZE = 20;

type Args = Record<string, unknown>;

/**
 * Costs that no variable can change (the operation has no scalar or enum variable), by schema,
 * document and operation name: yoga hands the same parsed document for the same query text, so a
 * record mutation sent thousands of times a second is costed once.
 */
const fixedCosts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();

/** Thrown inside the walk the moment the cost is known to pass the limit. */
class OverLimit {
  constructor(readonly atLeast: number) {}
}

/**
 * The operation's cost, or null when its variables do not fit their types (execution then
 * refuses the operation itself, before any resolver). The walk stops as soon as the cost passes
 * `max` (the answer is then a partial sum above `max`), and each fragment is costed once per
 * field it is spread in, so its own time is bounded by `max` whatever the document: a chain of
 * fragments each spreading the next twice would otherwise double the walk at every level.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
  max = Number.POSITIVE_INFINITY,
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
  // A fragment's cost depends only on the arguments of the field it is spread in (a series reads
  // its dashboard's range), so it is kept per that field's arguments object.
  const fragmentCosts = new WeakMap<Args, Map<string, number>>();
  const costing = new Set<string>();
  // Fields walked so far: each costs at least 1, so more than `max` of them is over the limit too.
  let walked = 0;

  /**
   * Like graphql-js' collectFields, a fragment spread twice in one selection set counts once
   * (`spread` holds those already counted at this level).
   */
  function selectionCost(
    set: SelectionSetNode,
    type: GraphQLObjectType,
    parentArgs: Args,
    spread: Set<string>,
  ): number {
    let cost = 0;
    for (const selection of set.selections) {
      // Execution leaves out what @skip or @include leaves out (a breakdown asked without series).
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        cost += fieldCost(selection, type, parentArgs);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (isObjectType(on)) cost += selectionCost(selection.selectionSet, on, parentArgs, spread);
      } else {
        const name = selection.name.value;
        if (spread.has(name)) continue;
        spread.add(name);
        cost += fragmentCost(name, parentArgs);
      }
      if (cost > max) throw new OverLimit(cost);
    }
    return cost;
  }

  function included(node: FieldNode | InlineFragmentNode | FragmentSpreadNode): boolean {
    if (!node.directives?.length) return true;
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
    } catch {
      return true; // a bad `if` fails in execution; costing the node meanwhile never undercounts
    }
  }

  function fragmentCost(name: string, parentArgs: Args): number {
    let byName = fragmentCosts.get(parentArgs);
    if (!byName) fragmentCosts.set(parentArgs, (byName = new Map()));
    const known = byName.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    const on = fragment && schema.getType(fragment.typeCondition.name.value);
    // Validation already refused cycles; `costing` only keeps a broken document from looping.
    if (!fragment || !isObjectType(on) || costing.has(name)) return 0;
    costing.add(name);
    const cost = selectionCost(fragment.selectionSet, on, parentArgs, new Set([name]));
    costing.delete(name);
    byName.set(name, cost);
    return cost;
  }

  function fieldCost(node: FieldNode, parent: GraphQLObjectType, parentArgs: Args): number {
    const name = node.name.value;
    // Introspection is answered from memory (and refused in production); __typename is free.
    if (name.startsWith('__')) return 0;
    const field = parent.getFields()[name];
    if (!field) return 0;
    if (++walked > max) throw new OverLimit(walked);
    let args: Args = {};
    // Only scalar and enum arguments bound a list; input-object arguments (a record mutation's
    // events, a dashboard's filter) are left out, as their variables were not coerced above.
    const scalarArgs = field.args.filter((arg) => !isInputObjectType(getNamedType(arg.type)));
    if (scalarArgs.length > 0) {
      try {
        const names = new Set(scalarArgs.map((arg) => arg.name));
        args = getArgumentValues(
          { ...field, args: scalarArgs },
          {
            ...node,
            arguments: node.arguments?.filter((arg) => names.has(arg.name.value)),
          },
          variables,
        );
      } catch {
        // A bad argument fails in execution, before any resolver.
      }
    }
    const type = getNamedType(field.type);
    // Children see this field's arguments over its parent's: a breakdown row's series has its dashboard's buckets.
    const childArgs = { ...parentArgs, ...args };
    const each =
      node.selectionSet && isObjectType(type) ? 1 + selectionCost(node.selectionSet, type, childArgs, new Set()) : 1;
    const cost = isListType(getNullableType(field.type)) ? listSize(field, args, parentArgs) * each : each;
    if (cost > max) throw new OverLimit(cost);
    return cost;
  }

  let cost: number;
  try {
    cost = operation.selectionSet ? selectionCost(operation.selectionSet, root, {}, new Set()) : 0;
  } catch (error) {
    if (!(error instanceof OverLimit)) throw error;
    cost = error.atLeast;
  }
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
  // A connection's edges: as many as its field's `first` (events), which is refused past MAX_PAGE.
  if (field.name === 'edges' && typeof parentArgs.first === 'number')
    return Math.min(MAX_PAGE, Math.max(1, parentArgs.first));
  return UNBOUNDED_LIST_SIZE;
}

/** A series has one point per bucket of its dashboard's range, at most MAX_BUCKETS. */
function seriesLength(dashboardArgs: Args): number {
  const { from, to, granularity } = dashboardArgs;
  if (typeof from !== 'number' || typeof to !== 'number' || typeof granularity !== 'string') return MAX_BUCKETS;
  if (!GRANULARITIES.includes(granularity as Granularity)) return 1;
  return Math.min(MAX_BUCKETS, mostBucketsIn(from, to, granularity as Granularity));
}
