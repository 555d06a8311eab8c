/**
 * Production answers suggest nothing: graphql-js adds "Did you mean …?" to validation errors (enum
 * values, arguments, types) and to variable coercion errors (enum values, input fields), which
 * would spell out the schema that production hides. Armor's blockFieldSuggestions covers only
 * field names in validation; this covers every error of every answer, over HTTP and WebSocket.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

function withoutSuggestion(error: GraphQLError): GraphQLError {
  if (!SUGGESTION.test(error.message)) return error;
  SUGGESTION.lastIndex = 0;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

function cleaned<T extends { errors?: readonly GraphQLError[] }>(result: T): T | null {
  if (!result.errors?.some((e) => e.message.includes('Did you mean'))) return null;
  return { ...result, errors: result.errors.map(withoutSuggestion) };
}

export function noSuggestions(): Plugin {
  return {
    onValidate:
      () =>
      ({ result, setResult }) => {
        if (result.some((e) => e.message.includes('Did you mean')))
          setResult(result.map((e) => (e instanceof GraphQLError ? withoutSuggestion(e) : e)));
      },
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (Symbol.asyncIterator in result) return;
        const clean = cleaned(result);
        if (clean) setResult(clean);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (Symbol.asyncIterator in result) return;
        const clean = cleaned(result);
        if (clean) setResult(clean);
      },
    }),
  };
}
