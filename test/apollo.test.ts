/**
 * Apollo Client 4 as a front-end team would set it up: PersistedQueryLink before HttpLink, graphql-ws
 * for subscriptions, the default InMemoryCache with no type policies. Queries, mutations and a live
 * dashboard through subscribeToMore, with no warning; automatic persisted queries (and their faults)
 * on the wire; and the trusted-documents mode, PERSISTED_OPERATIONS=only.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache, type DocumentNode } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { addTypenameToDocument, getMainDefinition } from '@apollo/client/utilities';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import WebSocket from 'ws';
import { ClientCreateProgramDocument, ClientMeDocument, ClientProgramsDocument } from '../src/client/generated.js';
import { MonitoringClient } from '../src/client/index.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Apollo's warnings and errors go to the console; any of them fails the test. */
let complaints: unknown[][] = [];
beforeEach(() => {
  complaints = [];
  for (const level of ['warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void complaints.push([level, ...args]));
  }
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

/** Apollo Client on a running server: hashes first over HTTP, subscriptions over graphql-ws. */
/** `sent` collects every HTTP body the link posts, to see what went over the wire. */
function apolloFor(url: string, key = ADMIN_KEY, sent: Record<string, any>[] = []) {
  // Apollo's GraphQLWsLink looks at the global WebSocket when a subscription fails, as in a browser;
  // Node 20 has none.
  vi.stubGlobal('WebSocket', WebSocket);
  const ws = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
  });
  const http = new PersistedQueryLink({ sha256 }).concat(
    new HttpLink({
      uri: url,
      headers: { authorization: `Bearer ${key}` },
      fetch: (input, init) => {
        if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
        return fetch(input, init);
      },
    }),
  );
  const isSubscription = ({ query }: { query: DocumentNode }) => {
    const main = getMainDefinition(query);
    return main.kind === 'OperationDefinition' && main.operation === 'subscription';
  };
  const client = new ApolloClient({
    link: ApolloLink.split(isSubscription, new GraphQLWsLink(ws), http),
    cache: new InMemoryCache(),
  });
  onTestFinished(async () => {
    client.stop();
    await ws.dispose();
  });
  return client;
}

const DASHBOARD_FIELDS: DocumentNode = gql`
  fragment LiveTotals on Dashboard {
    id
    programId
    resolvedCases
    avgResolutionTime
    totalConflicts
    series {
      start
      resolvedCases
    }
  }
`;
const DASHBOARD: TypedDocumentNode<any, any> = gql`
  query WatchedDashboard($programId: ID, $from: DateTime, $to: DateTime) {
    dashboard(programId: $programId, from: $from, to: $to, granularity: MONTH) {
      ...LiveTotals
    }
  }
  ${DASHBOARD_FIELDS}
`;
const DASHBOARD_UPDATED = gql`
  subscription LiveDashboard($programId: ID, $from: DateTime, $to: DateTime) {
    dashboardUpdated(programId: $programId, from: $from, to: $to, granularity: MONTH) {
      ...LiveTotals
    }
  }
  ${DASHBOARD_FIELDS}
`;
const RECORD: TypedDocumentNode<any, any> = gql`
  mutation Record($input: RecordResolutionTimeInput!) {
    recordResolutionTime(input: $input) {
      duplicate
      event {
        id
        value
      }
    }
  }
`;
const ME: TypedDocumentNode<any, any> = gql`
  query Me {
    me {
      id
      keyId
      role
    }
  }
`;

describe('Apollo Client with PersistedQueryLink and the default InMemoryCache', () => {
  it('runs queries, mutations and a live dashboard (subscribeToMore) with no warning', async () => {
    const t = await testApp();
    await t.program('HA');
    const { url } = await t.app.start();
    const bodies: Record<string, any>[] = [];
    const client = apolloFor(url, ADMIN_KEY, bodies);
    const range = { programId: 'HA', from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };

    const me = await client.query({ query: ME });
    expect(me.data?.me).toMatchObject({ id: 'ADMIN_API_KEY', keyId: null, role: 'ADMIN' });

    const watched = client.watchQuery({ query: DASHBOARD, variables: range });
    const seen: any[] = [];
    let notify = () => {};
    const sub = watched.subscribe((result) => {
      if (result.data) seen.push(result.data.dashboard);
      notify();
    });
    onTestFinished(() => sub.unsubscribe());
    const until = (predicate: (d: any) => boolean) =>
      new Promise<any>((resolve) => {
        const check = () => {
          const hit = seen.find(predicate);
          if (hit) resolve(hit);
        };
        notify = check;
        check();
      });

    const first = await until((d) => d.resolvedCases === 0);
    expect(first.id).toMatch(/^[\w-]{22}$/);

    // No updateQuery: the push carries the same Dashboard.id, so the cache merges it into the watched query.
    watched.subscribeToMore({ document: DASHBOARD_UPDATED, variables: range, onError: (e) => complaints.push([e]) });

    const recorded = await client.mutate({
      mutation: RECORD,
      variables: { input: { programId: 'HA', caseId: 'HA-1', days: 5, occurredAt: '2026-06-01T12:00:00Z' } },
    });
    expect(recorded.data?.recordResolutionTime).toMatchObject({ duplicate: false, event: { value: 5 } });

    const live = await until((d) => d.resolvedCases === 1);
    expect(live).toMatchObject({ id: first.id, avgResolutionTime: 5, programId: 'HA' });
    expect(live.series.find((p: any) => p.start === '2026-06-01T00:00:00.000Z')?.resolvedCases).toBe(1);

    // The link sent hashes first and the text only when asked for it.
    const posted = bodies.filter((b) => b.extensions?.persistedQuery);
    expect(posted.length).toBeGreaterThan(0);
    expect(posted.find((b) => b.operationName === 'Me' && !b.query)).toBeTruthy();
    expect(posted.find((b) => b.operationName === 'Me' && b.query)).toBeTruthy();
    expect(complaints).toEqual([]);
  });

  it('gives two keys that see different programs different dashboard ids, and equal arguments one id', async () => {
    const t = await testApp();
    await t.program('HA');
    await t.program('SNAP');
    const limited = await t.key('VIEWER', ['HA']);
    const { url } = await t.app.start();
    const idOf = async (key: string, variables: Record<string, unknown> = {}) => {
      const client = apolloFor(url, key);
      const { data } = await client.query({
        query: gql`query Id($programId: ID) { dashboard(programId: $programId) { id } }`,
        variables,
      });
      return (data as any).dashboard.id as string;
    };
    expect(await idOf(ADMIN_KEY)).toBe(await idOf(ADMIN_KEY));
    expect(await idOf(ADMIN_KEY)).not.toBe(await idOf(limited));
    expect(await idOf(ADMIN_KEY, { programId: 'HA' })).toBe(await idOf(limited, { programId: 'HA' }));
    expect(await idOf(ADMIN_KEY, { programId: 'HA' })).not.toBe(await idOf(ADMIN_KEY, { programId: 'SNAP' }));
    expect(complaints).toEqual([]);
  });
});

describe('automatic persisted queries on the wire', () => {
  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, ...((await r.json()) as any) }));
  const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

  it('answers PersistedQueryNotFound, then accepts the query with its hash, then the hash alone', async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    const query = '{ programs { id } }';

    const unknown = await post(url, { extensions: apq(sha256(query)) });
    expect(unknown.status).toBe(400);
    expect(unknown.errors).toMatchObject([
      { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
    ]);

    expect(await post(url, { query, extensions: apq(sha256(query)) })).toMatchObject({
      status: 200,
      data: { programs: [] },
    });
    expect(await post(url, { extensions: apq(sha256(query)) })).toMatchObject({ status: 200, data: { programs: [] } });
  });

  it("refuses a hash that is not the query's, and never keeps it", async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    const wrong = sha256('{ programs { name } }');

    const refused = await post(url, {
      query: 'mutation { createProgram(input: {id: "X", name: "X"}) { id } }',
      extensions: apq(wrong),
    });
    expect(refused.status).toBe(400);
    expect(refused.errors).toMatchObject([{ extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH' } }]);
    expect(refused.data).toBeUndefined();
    // Not kept under the wrong hash, and nothing ran.
    expect((await post(url, { extensions: apq(wrong) })).errors).toMatchObject([
      { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } },
    ]);
    expect(await post(url, { query: '{ programs { id } }' })).toMatchObject({ data: { programs: [] } });
    // A malformed persistedQuery extension is bad input too.
    expect(
      (await post(url, { extensions: { persistedQuery: { version: 2, sha256Hash: wrong } } })).errors,
    ).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
  });

  it('still answers a request without query or hash as GraphQL over HTTP says', async () => {
    const t = await testApp();
    const { url } = await t.app.start();
    const empty = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: '{}',
    }).then(async (r) => ({ status: r.status, ...((await r.json()) as any) }));
    expect(empty.status).toBe(400);
    expect(empty.errors[0].message).toMatch(/query/i);
  });
});

describe('PERSISTED_OPERATIONS=only (trusted documents)', () => {
  const DEPLOYED = gql`
    query DeployedPrograms {
      programs {
        id
        name
      }
    }
  `;

  async function trustedApp() {
    const file = path.join(tmpdir(), `kpi-trusted-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
    // A deployment's own document, keyed as Apollo's link hashes it.
    const sent = print(addTypenameToDocument(DEPLOYED));
    writeFileSync(file, JSON.stringify({ [sha256(sent)]: sent }));
    const t = await testApp({ env: { PERSISTED_OPERATIONS: 'only', PERSISTED_OPERATIONS_FILE: file } });
    // The test helpers' own documents are not trusted here; the typed client's are.
    await t.ok(gql(String(ClientCreateProgramDocument)) as any, { input: { id: 'HA', name: 'Housing' } });
    const { url } = await t.app.start();
    return { t, url };
  }

  it("runs the typed client's documents (as text and by hash) and, through Apollo, the deployment's", async () => {
    const { url } = await trustedApp();
    // The typed client (and the page, which uses it) sends codegen's documents as text, over HTTP and WebSocket.
    const typed = new MonitoringClient({ url, apiKey: ADMIN_KEY });
    onTestFinished(() => typed.close());
    expect((await typed.me()).role).toBe('ADMIN');
    await typed.recordResolutionTime({ programId: 'HA', caseId: 'HA-1', days: 5 });
    expect((await typed.getDashboard({ programId: 'HA' })).avgResolutionTime).toBe(5);
    const pushed = await new Promise<number>((resolve) => {
      const stop = typed.subscribeDashboard({ programId: 'HA' }, { next: (d) => (stop(), resolve(d.resolvedCases)) });
    });
    expect(pushed).toBe(1);
    // By hash alone, as a client holding codegen's output would send them.
    const byHash = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(String(ClientMeDocument)) } },
      }),
    });
    expect(((await byHash.json()) as any).data.me.role).toBe('ADMIN');

    // Apollo sends its documents with __typename added: a deployment lists those (Apollo's manifest tool does).
    const client = apolloFor(url);
    const deployed = await client.query({ query: DEPLOYED });
    expect((deployed.data as any).programs.map((p: any) => p.id)).toEqual(['HA']);
    expect(complaints).toEqual([]);
  });

  it('refuses any other document with OPERATION_NOT_TRUSTED and runs nothing, over HTTP and WebSocket', async () => {
    const { t, url } = await trustedApp();
    const client = apolloFor(url);
    // Apollo's link sends the hash, hears PersistedQueryNotFound, sends the text, and is refused.
    const untrusted = gql`
      mutation Sneaky {
        createProgram(input: { id: "SNEAKY", name: "Sneaky" }) {
          id
        }
      }
    `;
    const error = await client.mutate({ mutation: untrusted }).then(
      () => null,
      (e) => e,
    );
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect(error.errors).toMatchObject([{ extensions: { code: 'OPERATION_NOT_TRUSTED' } }]);

    const live = client.subscribe({ query: gql`subscription { dashboardUpdated(programId: "HA") { resolvedCases } }` });
    const wsResult = await new Promise<any>((resolve) => live.subscribe({ next: resolve, error: resolve }));
    expect(CombinedGraphQLErrors.is(wsResult.error)).toBe(true);
    expect(wsResult.error.errors).toMatchObject([{ extensions: { code: 'OPERATION_NOT_TRUSTED' } }]);

    const programs = await t.run(
      // Checked through the app's own fetch path with a trusted document: the program was never created.
      gql(String(ClientProgramsDocument)) as any,
      {},
    );
    expect((programs.data as any).programs.map((p: any) => p.id)).toEqual(['HA']);
  });
});
