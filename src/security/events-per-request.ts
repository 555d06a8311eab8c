/**
 * Events per request, across every field: a request may hold one recordEvents field at most, and
 * at most MAX_EVENTS_PER_REQUEST events in all (its batch plus any single record mutations beside
 * it). Each field commits on its own, so fifteen aliased batches would store 150,000 events for
 * one rate-limit token and not all or nothing; one batch per request keeps "all or nothing" true
 * of the whole request's batch. Refused with LIMIT_EXCEEDED before any resolver runs.
 */
import { Kind, getOperationAST, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../schema/errors.js';
import { refuseBeforeExecution } from './before-execution.js';

/** recordEvents' own bound (src/events/validate.ts), now for the request as a whole. */
export const MAX_EVENTS_PER_REQUEST = 10_000;

const SINGLE_RECORDS = new Set(['recordResolutionTime', 'recordSatisfaction', 'recordConflict']);

export function eventsPerRequestPlugin(): Plugin {
  return refuseBeforeExecution(({ document, operationName, variableValues }) => {
    const operation = getOperationAST(document, operationName);
    if (operation?.operation !== 'mutation') return null;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    let batches = 0;
    let events = 0;
    let fields = 0;
    const seen = new Set<string>();
    const walk = (set: SelectionSetNode) => {
      for (const selection of set.selections) {
        if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
        else if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = fragments.get(selection.name.value);
          if (fragment && !seen.has(fragment.name.value)) {
            seen.add(fragment.name.value);
            walk(fragment.selectionSet);
          }
        } else if (selection.name.value === 'recordEvents') {
          batches++;
          fields++;
          const argument = selection.arguments?.find((a) => a.name.value === 'events');
          events += argument ? listLength(argument.value, variableValues ?? {}) : 0;
        } else if (SINGLE_RECORDS.has(selection.name.value)) {
          events++;
          fields++;
        }
      }
    };
    walk(operation.selectionSet);
    if (batches > 1)
      return limitExceeded(
        'batchFields',
        1,
        `a request may hold one recordEvents field, not ${batches}: send one batch per request`,
      );
    // A lone batch over the bound gets recordEvents' own BAD_USER_INPUT, naming its field.
    if (events > MAX_EVENTS_PER_REQUEST && fields > 1)
      return limitExceeded(
        'eventsPerRequest',
        MAX_EVENTS_PER_REQUEST,
        `a request may record at most ${MAX_EVENTS_PER_REQUEST} events across its fields, not ${events}`,
      );
    return null;
  });
}

function listLength(value: ValueNode, variables: Record<string, unknown>): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const bound = variables[value.name.value];
    return Array.isArray(bound) ? bound.length : bound == null ? 0 : 1;
  }
  return 1;
}
