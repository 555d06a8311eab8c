/**
 * The holes a hostile client found in the second security pass (issue 17), one case each: every
 * case here failed on the code before its fix.
 */
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LiveDashboardDocument, RecordResolutionTimeDocument } from './generated/operations.js';
import { connect as connectLive, listen } from './helpers/ws.js';
import { ADMIN_KEY, testApp, type GraphQLErrorJson, type TestApp } from './helpers/app.js';

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: GraphQLErrorJson[];
}

async function send(t: TestApp, query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY) {
  const response = await t.app.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) } as Answer;
}

/** A chain of `levels` fragments, each spreading the next one twice, ending in `leaf`. */
function fanOut(levels: number, leaf: string, on = 'Query') {
  let document = '';
  for (let i = 0; i < levels; i++) document += `fragment F${i} on ${on} { ...F${i + 1} ...F${i + 1} }\n`;
  return `${document}fragment F${levels} on ${on} { ${leaf} }\n`;
}

describe('exponential fragment fan-out', () => {
  // 2^60 spreads: the walk before the fix never ended, and the event loop with it.
  it('costs a fragment spread twice in one selection once, as execution collects it', async () => {
    const t = await testApp();
    await t.program('A');
    const answer = await send(t, `query { ...F0 }\n${fanOut(60, 'programs { id }')}`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ programs: [{ id: 'A' }] });
  });
});

describe('/metrics for an admin limited to some programs', () => {
  it("holds only that admin's programs' KPIs, while METRICS_TOKEN reads every program", async () => {
    const t = await testApp({ env: { METRICS_TOKEN: 'scrape-token-for-tests' } });
    await t.program('A');
    await t.program('B');
    for (const programId of ['A', 'B'])
      await t.ok(RecordResolutionTimeDocument, { input: { programId, caseId: `${programId}-1`, days: 3 } });
    const { url } = await t.app.start();
    const scrape = async (token: string) => {
      const response = await fetch(new URL('/metrics', url), { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return response.text();
    };
    const limited = await scrape(await t.key('ADMIN', ['A']));
    expect(limited).toMatch(/kpi_value\{program="A",kpi="AVG_RESOLUTION_TIME"\} 3/);
    expect(limited).not.toMatch(/program="B"/);
    const all = await scrape('scrape-token-for-tests');
    expect(all).toMatch(/kpi_value\{program="B",kpi="AVG_RESOLUTION_TIME"\} 3/);
  });
});

/** A socket that sends a request's headers and then only part of its declared body. */
function slowBody(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
      );
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

describe('slow bodies', () => {
  it('hold no slot of MAX_IN_FLIGHT_REQUESTS, and are cut off with 408 after HTTP_REQUEST_TIMEOUT_MS', async () => {
    const t = await testApp({
      env: { MAX_IN_FLIGHT_REQUESTS: '4', HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000' },
    });
    const { url, port } = await t.app.start();
    let received = 0;
    const allReceived = new Promise<void>((resolve) =>
      t.app.server.on('request', () => {
        if (++received === 20) resolve();
      }),
    );
    const slow = await Promise.all(Array.from({ length: 20 }, () => slowBody(port)));
    const answers = slow.map(
      (socket) =>
        new Promise<string>((resolve) => {
          let text = '';
          socket.on('data', (chunk) => (text += chunk));
          socket.on('close', () => resolve(text));
        }),
    );
    // Every slow socket has been taken on by the server before the legitimate request goes.
    await allReceived;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ programs { id } }' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { programs: [] } });
    for (const answer of await Promise.all(answers)) expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('counts server-sent event streams in MAX_IN_FLIGHT_REQUESTS while they are open', async () => {
    const t = await testApp({ env: { MAX_IN_FLIGHT_REQUESTS: '2' } });
    await t.program('A');
    const { url } = await t.app.start();
    const abort = new AbortController();
    onTestFinished(() => abort.abort());
    const subscribe = () =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${ADMIN_KEY}`,
        },
        body: JSON.stringify({ query: 'subscription { dashboardUpdated(programId: "A") { resolvedCases } }' }),
        signal: abort.signal,
      });
    const streams = [await subscribe(), await subscribe()];
    for (const stream of streams) expect(stream.status).toBe(200);
    const third = await subscribe();
    expect(third.status).toBe(503);
    expect(((await third.json()) as Answer).errors?.[0].extensions?.code).toBe('OVERLOADED');
  });
});

describe('WebSocket upgrades', () => {
  /** The HTTP status of an upgrade sent with `origin` (101 when taken on). */
  const upgradeStatus = (url: string, origin?: string) =>
    new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', origin ? { origin } : {});
      socket.once('upgrade', (res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('error', (error) =>
        error.message.includes('Unexpected server response') ? undefined : reject(error),
      );
    });

  it('are refused from an origin CORS_ORIGINS does not list, and taken without Origin, from the page, or from a listed origin', async () => {
    const t = await testApp({ env: { CORS_ORIGINS: 'https://kpi.example.gov' } });
    const { url } = await t.app.start();
    expect(await upgradeStatus(url, 'https://evil.example')).toBe(403);
    expect(await upgradeStatus(url, 'null')).toBe(403);
    expect(await upgradeStatus(url)).toBe(101);
    expect(await upgradeStatus(url, 'https://kpi.example.gov')).toBe(101);
    expect(await upgradeStatus(url, new URL(url).origin)).toBe(101);
  });
});

describe('production mode', () => {
  it('suggests no name of any kind, and quotes no part of a malformed body', async () => {
    const t = await testApp({ env: { NODE_ENV: 'production' } });
    const answers = [
      await send(t, '{ alerts(states: [FIRNG]) { id } }'),
      await send(t, 'query ($s: [AlertState!]) { alerts(states: $s) { id } }', { s: ['FIRNG'] }),
      await send(t, 'mutation ($i: CreateProgramInput!) { createProgram(input: $i) { id } }', {
        i: { id: 'A', nme: 'x', name: 'A' },
      }),
    ];
    for (const answer of answers) {
      expect(answer.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(answer.errors)).not.toMatch(/Did you mean|FIRING|"name"/);
    }
    const malformed = await t.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: '{"query": "{ me { role } }", secret-looking-body',
    });
    expect(malformed.status).toBe(400);
    const text = await malformed.text();
    expect(text).not.toMatch(/originalError|secret-looking-body/);
  });
});

describe('events per request', () => {
  const events = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => ({ programId: 'A', kind: 'CONFLICT', caseId: `${prefix}${i}` }));
  const total = async (t: TestApp) => {
    const { data } = await send(t, '{ dashboard(programId: "A") { totalConflicts } }');
    return (data as { dashboard: { totalConflicts: number } }).dashboard.totalConflicts;
  };

  it('allows one recordEvents field per request: aliased batches are refused whole', async () => {
    const t = await testApp();
    await t.program('A');
    const answer = await send(
      t,
      'mutation ($a: [EventInput!]!, $b: [EventInput!]!) { a: recordEvents(events: $a) { accepted } b: recordEvents(events: $b) { accepted } }',
      { a: events(2, 'a'), b: events(2, 'b') },
    );
    expect(answer.errors?.map((e) => [e.extensions?.code, e.extensions?.limit])).toEqual([
      ['LIMIT_EXCEEDED', 'batchFields'],
    ]);
    expect(await total(t)).toBe(0);
  });

  it('counts single record mutations beside the batch against the 10,000 events of a request', async () => {
    const t = await testApp();
    await t.program('A');
    const answer = await send(
      t,
      'mutation ($a: [EventInput!]!) { recordEvents(events: $a) { accepted } c: recordConflict(input: { programId: "A", caseId: "x" }) { duplicate } }',
      { a: events(10_000, 'a') },
    );
    expect(answer.errors?.map((e) => [e.extensions?.code, e.extensions?.limit])).toEqual([
      ['LIMIT_EXCEEDED', 'eventsPerRequest'],
    ]);
    expect(await total(t)).toBe(0);
  });
});

describe('subscriptions per socket', () => {
  it('are capped at LIVE_MAX_SUBSCRIPTIONS_PER_SOCKET: one more is refused alone, and the socket stays usable', async () => {
    const t = await testApp({ env: { LIVE_MAX_SUBSCRIPTIONS_PER_SOCKET: '2' } });
    await t.program('A');
    const live = connectLive(await listen(t), ADMIN_KEY);
    const first = live.subscribe(LiveDashboardDocument, { programId: 'A' });
    const second = live.subscribe(LiveDashboardDocument, { programId: 'A' });
    await first.next();
    await second.next();
    const third = live.subscribe(LiveDashboardDocument, { programId: 'A' });
    const refusal = (await third.ended.catch((error) => error)) as { extensions?: { code?: string; limit?: string } }[];
    expect(refusal.map((e) => [e.extensions?.code, e.extensions?.limit])).toEqual([
      ['LIMIT_EXCEEDED', 'subscriptionsPerSocket'],
    ]);
    first.unsubscribe();
    const fourth = live.subscribe(LiveDashboardDocument, { programId: 'A' });
    expect((await fourth.next()).errors).toBeUndefined();
  });
});

describe('revocation over server-sent events', () => {
  it('ends an alertChanged stream when its key is revoked, and a later FIRING alert never reaches it', async () => {
    const t = await testApp();
    await t.program('HA');
    const key = await t.key('VIEWER', ['HA']);
    const [{ id: keyId }] = (await send(t, '{ apiKeys { id } }')).data!.apiKeys as { id: string }[];
    const response = await t.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: 'subscription { alertChanged { id state programId } }' }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    // The first read pulls the stream, which then subscribes to the bus (the revocation's round trip
    // below comes after): from here on every alert it may see would arrive.
    let reading = reader.read();

    expect(
      (await send(t, 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: keyId })).errors,
    ).toBeUndefined();
    // The default rule fires on HA: before the fix this alert was the stream's next message.
    for (const caseId of ['c1', 'c2'])
      await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId, days: 30 } });
    await t.app.services.alerts.engine.judge(null);
    expect((await send(t, '{ alerts { state } }')).data!.alerts).toEqual([{ state: 'FIRING' }]);

    let text = '';
    let ended = false;
    while (!ended && !text.includes('FIRING')) {
      const { done, value } = await reading;
      reading = reader.read();
      ended = done;
      if (value) text += new TextDecoder().decode(value);
    }
    expect(text).not.toContain('FIRING');
    expect(ended).toBe(true);
  });
});
