/**
 * Yoga parses a GET request's `variables` and `extensions` with JSON.parse and lets a SyntaxError
 * through as a 500. Whatever fails while a request is parsed is the caller's mistake: 400.
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
          if (error instanceof GraphQLError) throw error;
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
