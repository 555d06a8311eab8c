/**
 * Bad input that graphql-js refuses on its own still gets a code: variables that do not coerce
 * (a string for a Float, null for a non-null) come back as BAD_USER_INPUT, and strings holding
 * U+0000, which PostgreSQL cannot store in text, are refused before any resolver runs.
 */
import { GraphQLError, Kind, visit, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { userError } from '../schema/errors.js';
import { refuseBeforeExecution } from './before-execution.js';

const NUL = '\u0000';

/** Walks the variables with a stack of its own: hostile input may nest deeper than the call stack. */
function holdsNul(variables: unknown): boolean {
  const pending: unknown[] = [variables];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes(NUL)) return true;
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) pending.push(value[i]);
    } else if (value && typeof value === 'object') {
      // for-in, not Object.entries: no pair arrays made for each of a batch's thousands of fields.
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (key.includes(NUL)) return true;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** Yoga parses each distinct document once and reuses it, so the answer is kept per document. */
const nulInDocument = new WeakMap<DocumentNode, boolean>();

function documentHoldsNul(document: DocumentNode): boolean {
  let found = nulInDocument.get(document);
  if (found === undefined) nulInDocument.set(document, (found = visitForNul(document)));
  return found;
}

function visitForNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes(NUL)) found = true;
    },
  });
  return found;
}

/** Errors of a request that never ran (no data, no path) are the caller's input: BAD_USER_INPUT. */
function codeRequestErrors(result: ExecutionResult): ExecutionResult | null {
  if (result.data !== undefined || !result.errors?.some((e) => !e.extensions?.code && !e.path)) return null;
  return {
    ...result,
    errors: result.errors.map((e) =>
      e.extensions?.code || e.path
        ? e
        : new GraphQLError(e.message, {
            nodes: e.nodes,
            source: e.source,
            positions: e.positions,
            extensions: { ...e.extensions, code: 'BAD_USER_INPUT' },
          }),
    ),
  };
}

export function inputErrorPlugins(): Plugin[] {
  const nulRefusal = refuseBeforeExecution((args) =>
    holdsNul(args.variableValues) || documentHoldsNul(args.document)
      ? userError('BAD_USER_INPUT', 'strings must not contain the NUL character (U+0000)')
      : null,
  );
  const coded: Plugin = {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (Symbol.asyncIterator in result) return;
        const recoded = codeRequestErrors(result);
        if (recoded) setResult(recoded);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (Symbol.asyncIterator in result) return;
        const recoded = codeRequestErrors(result);
        if (recoded) setResult(recoded);
      },
    }),
  };
  return [nulRefusal, coded];
}
