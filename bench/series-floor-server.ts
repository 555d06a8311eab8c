/**
 * bench/series-floor.ts's servers, each in its own process as the service is in bench:breakdowns,
 * answering the breakdown with series from an answer already computed (the JSON file given) and
 * reading nothing:
 *  - `bytes`: the answer's bytes as they are, through the service's own compression (src/http/compression.ts);
 *  - `graphql`: graphql-yoga with the service's compiled execution (graphql-jit) and compression,
 *    over a schema of the answer's own types, whose resolvers hand back the answer's plain objects.
 * What either costs is what the service pays for that answer before it reads a single rollup.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { compressAnswers } from '../src/http/compression.js';
import { compiledExecution } from '../src/schema/compiled-execution.js';

const KPI_FIELDS = `avgResolutionTime: Float medianResolutionTime: Float p90ResolutionTime: Float resolvedCases: Int
  avgSatisfaction: Float csat: Float satisfactionResponses: Int totalConflicts: Int conflictRate: Float`;

/** The types the breakdown query names, with the arguments it passes (their values are not read). */
const TYPE_DEFS = `
  scalar DateTime
  enum Granularity { DAY }
  input AttributeFilterInput { key: String! values: [String!]! }
  type Point { start: DateTime! ${KPI_FIELDS} }
  type Row { value: String ${KPI_FIELDS} series: [Point!]! }
  type Dashboard { breakdown(by: String!, limit: Int): [Row!]! }
  type Query {
    dashboard(programId: ID, from: DateTime, to: DateTime, granularity: Granularity, filter: [AttributeFilterInput!]): Dashboard
  }
`;

function bytesHandler(bytes: Buffer) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', bytes.byteLength);
    res.end(bytes);
  };
}

function graphqlHandler(bytes: Buffer) {
  const { data } = JSON.parse(bytes.toString('utf8')) as { data: { dashboard: unknown } };
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: TYPE_DEFS,
      resolvers: {
        // The points' start is already the text the service sends.
        DateTime: { serialize: (v: unknown) => v, parseValue: (v: unknown) => v },
        Query: { dashboard: () => data.dashboard },
      },
    }),
    landingPage: false,
    graphiql: false,
    maskedErrors: { isDev: false },
    plugins: [compiledExecution()],
  });
  return yoga;
}

const [mode, answerFile] = process.argv.slice(2);
const bytes = readFileSync(answerFile);
const handle = mode === 'bytes' ? bytesHandler(bytes) : graphqlHandler(bytes);
const compress = compressAnswers();
const server = createServer(async (req, res) => {
  await compress(req, res);
  await handle(req, res);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.on('message', (message: { type: string }) => {
  if (message.type !== 'stop') return;
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
process.send!({ type: 'ready', url: `http://127.0.0.1:${port}/graphql` });
