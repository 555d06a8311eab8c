/**
 * Yoga parses a GET request's `variables` and `extensions` with JSON.parse and lets a SyntaxError
 * through as a 500. Whatever fails while a request is parsed is the caller's mistake: 400. No
 * answer quotes the body back (yoga's own JSON error would, in extensions.originalError).
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { GraphQLError } from 'graphql';

export function badRequestOnParseFailure(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          // Yoga's "POST body sent invalid JSON." carries the JSON parser's error, which quotes the body.
          if (error instanceof GraphQLError) {
            if (!error.extensions?.originalError) throw error;
            const { originalError: _quote, ...extensions } = error.extensions;
            throw createGraphQLError(error.message, { extensions: { ...extensions, http: { status: 400 } } });
          }
          throw createGraphQLError(
            'the request could not be parsed: query, variables and extensions must be well-formed (variables and extensions as JSON objects)',
            {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            },
          );
        }
      });
    },
  };
}
