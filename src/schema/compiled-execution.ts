/**
 * Queries and mutations run compiled by graphql-jit. The standard executor coerces variables with
 * a generic walk over the input types, after copying them into prototype-less objects; for a
 * recordEvents batch of 1,000 events that took 4-6 ms, more than storing the events, where the
 * compiled coercion takes under 2 ms. On the read side it walks every field of every object
 * through the same generic path: a year's breakdown by office with series is 18,000 objects of 10
 * fields, and compiled it runs in a third to a half of the time (bench/read-paths.ts).
 * Variables that do not coerce are handed back to the standard executor, whose messages name the
 * variable and the path to the bad value (`events[3].value`); no resolver has run by then.
 * Subscriptions keep the standard executor (the shared live results wrap its subscribe).
 * Not @envelop/graphql-jit: it has no such fallback, and it would take subscriptions too.
 */
import { Kind, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

function isSubscription({ document, operationName }: ExecutionArgs): boolean {
  return document.definitions.some(
    (d) =>
      d.kind === Kind.OPERATION_DEFINITION &&
      d.operation === 'subscription' &&
      (operationName == null || d.name?.value === operationName),
  );
}

export function compiledExecution(): Plugin {
  // Yoga parses each distinct document once and reuses it, so a document is compiled once.
  const compiled = new WeakMap<DocumentNode, Map<string | null, CompiledQuery | null>>();

  function compile(args: ExecutionArgs): CompiledQuery | null {
    let byName = compiled.get(args.document);
    if (!byName) compiled.set(args.document, (byName = new Map()));
    const name = args.operationName ?? null;
    let query = byName.get(name);
    if (query === undefined) {
      const result = compileQuery(args.schema, args.document, name ?? undefined);
      // What does not compile (an invalid operation name, say) runs as usual and is refused there.
      query = isCompiledQuery(result) ? result : null;
      byName.set(name, query);
    }
    return query;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (isSubscription(args)) return;
      const query = compile(args);
      if (!query) return;
      setExecuteFn(async (execution: ExecutionArgs) => {
        const result = (await query.query(
          execution.rootValue,
          execution.contextValue,
          execution.variableValues,
        )) as ExecutionResult;
        return result.data === undefined && result.errors ? executeFn(execution) : result;
      });
    },
  };
}
