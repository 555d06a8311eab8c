/**
 * Lists in arguments are bounded (LIMIT_LIST_LENGTH, 1,000 values by default), in literals and in
 * variables alike, before any resolver runs: `alerts(states: [40,000 values])` or
 * `createApiKey(input: { programIds: [...] })` is BAD_USER_INPUT naming the argument and the
 * bound, never a database error ("too many SQL variables": SQLite takes 32,766 values in one
 * statement, PostgreSQL 65,535; the bound keeps every IN-list and multi-row insert made from one
 * list far below both). Lists of events (recordEvents) have their own bound of 10,000 per request
 * (events-per-request.ts) and are not counted here.
 */
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isListType,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type GraphQLError,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badInput } from '../schema/errors.js';
import { refuseBeforeExecution } from './before-execution.js';

/** Bounded elsewhere: a batch of events is up to 10,000 (MAX_EVENTS_PER_REQUEST). */
const OWN_BOUND = new Set(['EventInput']);

export function listLengthPlugin(max: number): Plugin {
  const tooLong = (name: string, length: number) =>
    badInput(name, `may hold at most ${max} values (LIMIT_LIST_LENGTH); it holds ${length}`);
  const bounded = (listType: GraphQLInputType | null | undefined) =>
    !listType || !OWN_BOUND.has(getNamedType(listType).name);

  return refuseBeforeExecution(({ schema, document, operationName, variableValues }) => {
    const operation = getOperationAST(document, operationName);
    if (!operation) return null;
    // Literal lists, and where each variable is used (so a refusal names the argument).
    const typeInfo = new TypeInfo(schema);
    const path: string[] = [];
    const usedAs = new Map<string, string>();
    let error: GraphQLError | null = null;
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Argument: { enter: (node) => void path.push(node.name.value), leave: () => void path.pop() },
        ObjectField: { enter: (node) => void path.push(node.name.value), leave: () => void path.pop() },
        ListValue(node) {
          const type = getNullableType(typeInfo.getInputType() ?? undefined) as GraphQLInputType | undefined;
          if (!error && path.length && node.values.length > max && bounded(type))
            error = tooLong(path.join('.'), node.values.length);
        },
        Variable(node) {
          if (path.length && !usedAs.has(node.name.value)) usedAs.set(node.name.value, path.join('.'));
        },
      }),
    );
    if (error) return error;
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
      const value = variableValues?.[name];
      if (!type || value == null) continue;
      const found = longList(schema, type, value, max, bounded);
      if (found) return tooLong([usedAs.get(name) ?? `$${name}`, ...found.path].join('.'), found.length);
    }
    return null;
  });
}

/** The first list in `value` (read as `type`) longer than `max`: its input field path and length. */
function longList(
  schema: GraphQLSchema,
  type: GraphQLInputType,
  value: unknown,
  max: number,
  bounded: (listType: GraphQLInputType) => boolean,
): { path: string[]; length: number } | null {
  const nullable = getNullableType(type);
  if (value == null || !mayHoldList(nullable)) return null;
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return longList(schema, nullable.ofType, value, max, bounded);
    if (value.length > max && bounded(nullable)) return { path: [], length: value.length };
    for (const item of value) {
      const found = longList(schema, nullable.ofType, item, max, bounded);
      if (found) return found;
    }
    return null;
  }
  if (isInputObjectType(nullable) && typeof value === 'object') {
    for (const field of Object.values(nullable.getFields())) {
      const found = longList(schema, field.type, (value as Record<string, unknown>)[field.name], max, bounded);
      if (found) return { path: [field.name, ...found.path], length: found.length };
    }
  }
  return null;
}

const holdsList = new WeakMap<GraphQLInputObjectType, boolean>();

/** Whether a value of this type can contain a list at all (most inputs cannot: nothing to walk). */
function mayHoldList(type: GraphQLInputType): boolean {
  if (isListType(type)) return true;
  if (!isInputObjectType(type)) return false;
  let known = holdsList.get(type);
  if (known === undefined) {
    holdsList.set(type, false); // a cycle through this type adds nothing new
    known = Object.values(type.getFields()).some((field) => mayHoldList(getNullableType(field.type)));
    holdsList.set(type, known);
  }
  return known;
}
