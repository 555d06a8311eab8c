/**
 * The limits on every operation, HTTP and WebSocket alike (the socket server runs operations
 * through yoga.getEnveloped, so these plugins see them too). Each refuses before any resolver:
 *
 *   body bytes   while the request is read (413)                 LIMIT_BODY_BYTES
 *   tokens       while the document is parsed                     LIMIT_TOKENS
 *   expanded selections   before validation (fragment-expansion.ts)   LIMIT_EXPANDED_SELECTIONS
 *   depth, aliases, directives   during validation                LIMIT_DEPTH, LIMIT_ALIASES, LIMIT_DIRECTIVES
 *   list length  after validation, with the variables (list-lengths.ts; BAD_USER_INPUT)   LIMIT_LIST_LENGTH
 *   cost         after validation, with the variables (cost-limit.ts)   LIMIT_COST
 *
 * Every refusal is a GraphQL error with extensions.code LIMIT_EXCEEDED, extensions.limit naming
 * the limit and extensions.max its value.
 */
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Limits } from '../config.js';
import { limitExceeded } from '../schema/errors.js';
import { refuseBeforeExecution } from './before-execution.js';
import { operationCost } from './cost-limit.js';
import { expandedSelectionsPlugin } from './fragment-expansion.js';
import { listLengthPlugin } from './list-lengths.js';

/** Armor's messages ("Syntax Error: Query depth limit of 6 exceeded, found 7.") without the misleading prefix. */
const armorMessage = (error: GraphQLError) => error.message.replace(/^Syntax Error: /, '');

/** Armor reports through a coded error of ours instead of throwing from inside validation. */
function reportTo(limit: string, max: number) {
  return {
    n: max,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) =>
        context?.reportError(limitExceeded(limit, max, armorMessage(error))),
    ],
  };
}

export function limitPlugins(limits: Limits): Plugin[] {
  return [
    bodyLimitPlugin(limits.bodyBytes),
    maxTokensPlugin({
      n: limits.tokens,
      // Parsing must stop at the first token over: this throws out of the parser.
      onReject: [
        () => {
          throw limitExceeded(
            'tokens',
            limits.tokens,
            `the document has more than ${limits.tokens} tokens; send large inputs as variables`,
          );
        },
      ],
    }),
    // Before validation: a fragment fan-out is refused for the price of one walk.
    expandedSelectionsPlugin(limits.expandedSelections),
    // Fragments add no depth: depth is about how far the answer nests, not how the query is written.
    maxDepthPlugin({ ...reportTo('depth', limits.depth), flattenFragments: true, ignoreIntrospection: true }),
    maxAliasesPlugin({ ...reportTo('aliases', limits.aliases), allowList: [] }),
    maxDirectivesPlugin(reportTo('directives', limits.directives)),
    // Before the cost limit, so a huge list is refused naming its argument rather than as a cost.
    listLengthPlugin(limits.listLength),
    costLimitPlugin(limits.cost),
  ];
}

function costLimitPlugin(max: number): Plugin {
  return refuseBeforeExecution((args) => {
    // The walk stops once past `max`, so an answer above it is a lower bound.
    const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues, max);
    return cost !== null && cost > max
      ? limitExceeded(
          'cost',
          max,
          `the operation's estimated cost (at least ${cost}) exceeds the limit of ${max}; ask for fewer fields, smaller limits or shorter series`,
        )
      : null;
  });
}

/**
 * Refuses a body over `max` bytes with 413: at once when Content-Length says so, else while the
 * body is read, so a chunked upload is cut off at max + 1 bytes rather than buffered whole.
 * Not yoga's maxRequestBodySize: it re-streams every body, even one counted already (see app.ts).
 */
function bodyLimitPlugin(max: number): Plugin {
  const tooLarge = () =>
    limitExceeded('bodyBytes', max, `the request body exceeds the limit of ${max} bytes; split large batches`, 413);
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI, serverContext }) {
      const declared = request.headers.get('content-length');
      if (declared !== null && Number(declared) > max) throw tooLarge();
      // Over HTTP, Node's parser reads exactly the declared length as the body (and refuses a request
      // that also says chunked), so such a body needs no counting; other bodies are counted while read.
      if (declared !== null && /^\d+$/.test(declared) && (serverContext as { req?: unknown }).req) return;
      if (!request.body || !requestParser) return;
      setRequestParser(async (original) => {
        const bytes = await readAtMost(original, max, tooLarge);
        return requestParser(
          new fetchAPI.Request(original.url, { method: original.method, headers: original.headers, body: bytes }),
        );
      });
    },
  };
}

async function readAtMost(request: Request, max: number, tooLarge: () => Error): Promise<Uint8Array<ArrayBuffer>> {
  const reader = request.body!.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}
