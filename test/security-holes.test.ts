/**
 * The holes a hostile client found in the second security pass (issue 17), one case each: every
 * case here failed on the code before its fix.
 */
import { createServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocket } from 'ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import { LiveDashboardDocument, RecordResolutionTimeDocument } from './generated/operations.js';
import { connect as connectLive, listen } from './helpers/ws.js';
import { loadConfig } from '../src/config.js';
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
  it('refuses a chain past LIMIT_EXPANDED_SELECTIONS before validation, with LIMIT_EXCEEDED', async () => {
    const t = await testApp();
    await t.program('A');
    const answer = await send(t, `query { ...F0 }\n${fanOut(60, 'programs { id }')}`);
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors![0].extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      limit: 'expandedSelections',
      max: 2000,
    });
    expect((await send(t, '{ programs { id } }')).data).toEqual({ programs: [{ id: 'A' }] });
  });

  it('costs a fragment spread twice in one selection once, as execution collects it', async () => {
    const t = await testApp({ env: { LIMIT_EXPANDED_SELECTIONS: '1000000' } });
    await t.program('A');
    // 2^18 selections expanded, under the raised bound: the cost walk still visits each fragment once.
    const answer = await send(t, `query { ...F0 }\n${fanOut(17, 'programs { id }')}`);
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

describe('webhook targets (SSRF)', () => {
  const SECRET = 'a-secret-of-sixteen-chars';
  const createWebhook = 'mutation ($i: CreateWebhookInput!) { createWebhook(input: $i) { id url } }';

  /** A free local port and a server on it whose requests are counted. */
  async function listener(answer: (res: import('node:http').ServerResponse) => void = (res) => res.end()) {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return { port: (server.address() as AddressInfo).port, seen };
  }

  /** Fires the default rule on HA, waits for every delivery to settle, and returns the deliveries. */
  async function deliverAlert(t: TestApp) {
    for (const caseId of ['c1', 'c2'])
      await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId, days: 30 } });
    await t.app.services.alerts.engine.judge(null);
    await t.app.services.alerts.idle();
    const answer = await send(
      t,
      '{ webhookDeliveries { state lastError webhook { id } attemptLog { statusCode error } } }',
    );
    return answer.data!.webhookDeliveries as {
      state: string;
      lastError: string | null;
      webhook: { id: string };
      attemptLog: { statusCode: number | null; error: string | null }[];
    }[];
  }

  const internal = [
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', /link-local or cloud metadata/],
    ['a private address (10/8)', 'http://10.0.0.5/hook', /private/],
    ['a private address (172.16/12)', 'http://172.16.1.1/hook', /private/],
    ['a private address (192.168/16)', 'https://192.168.1.1/hook', /private/],
    ['a carrier-grade NAT address', 'http://100.64.0.1/hook', /private/],
    ['loopback', 'http://127.0.0.1:9/hook', /loopback/],
    ['loopback written as one number', 'http://2130706433/hook', /loopback/],
    ['loopback by name', 'http://localhost:8080/hook', /loopback/],
    ['IPv6 loopback', 'http://[::1]/hook', /loopback/],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/hook', /loopback/],
    ['IPv4-mapped IPv6 metadata', 'http://[::ffff:169.254.169.254]/hook', /link-local/],
    ['IPv6 unique-local (AWS metadata over IPv6)', 'http://[fd00:ec2::254]/hook', /private/],
    ['IPv6 link-local', 'http://[fe80::1]/hook', /link-local/],
    ['multicast', 'http://224.0.0.1/hook', /multicast/],
    ['IPv6 multicast', 'http://[ff02::1]/hook', /multicast/],
    ['the unspecified address', 'http://0.0.0.0/hook', /unspecified/],
    ['the IPv6 unspecified address', 'http://[::]/hook', /unspecified/],
  ] as const;

  it.each(internal)(
    'refuses %s with BAD_USER_INPUT naming url and the rule, also for an admin limited to a program; nothing is stored',
    async (_, url, reason) => {
      const t = await testApp();
      await t.program('A');
      const limitedAdmin = await t.key('ADMIN', ['A']);
      for (const [key, programId] of [
        [ADMIN_KEY, null],
        [limitedAdmin, 'A'],
      ] as const) {
        const answer = await send(t, createWebhook, { i: { url, secret: SECRET, programId } }, key);
        expect(answer.data?.createWebhook ?? null).toBeNull();
        expect(answer.errors).toHaveLength(1);
        expect(answer.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
        expect(answer.errors![0].message).toMatch(reason);
        expect(answer.errors![0].message).toMatch(/must point to a public address/);
      }
      expect((await send(t, '{ webhooks { id } }')).data!.webhooks).toEqual([]);
    },
  );

  it('allows loopback only with WEBHOOK_ALLOW_LOOPBACK=true, and private and metadata addresses never', async () => {
    expect(() => loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'yes' })).toThrow(
      /WEBHOOK_ALLOW_LOOPBACK must be one of true, false/,
    );
    const t = await testApp({ env: { WEBHOOK_ALLOW_LOOPBACK: 'true' } });
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/hook'])
      expect((await send(t, createWebhook, { i: { url, secret: SECRET } })).errors, url).toBeUndefined();
    for (const url of ['http://169.254.169.254/', 'http://10.1.2.3/', 'http://[fd00::1]/']) {
      const answer = await send(t, createWebhook, { i: { url, secret: SECRET } });
      expect(answer.errors?.[0].extensions, url).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
  });

  it('refuses credentials in the URL without quoting them back, and stores and audits nothing', async () => {
    const t = await testApp();
    const answer = await send(t, createWebhook, {
      i: { url: 'https://hook-user:hunter2-password@hooks.example/kpi', secret: SECRET },
    });
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    expect(answer.errors?.[0].message).toMatch(/must not hold credentials/);
    expect(JSON.stringify(answer)).not.toMatch(/hunter2|hook-user/);
    expect((await send(t, '{ webhooks { id } }')).data!.webhooks).toEqual([]);
    expect(JSON.stringify((await send(t, '{ auditLog { action details } }')).data)).not.toMatch(/hunter2|hook-user/);
  });

  it('never shows credentials of a webhook stored before they were refused', async () => {
    const t = await testApp();
    const { id } = (await send(t, createWebhook, { i: { url: 'https://hooks.example/kpi', secret: SECRET } })).data!
      .createWebhook as { id: string };
    await t.app.services.db
      .updateTable('webhooks')
      .set({ url: 'https://hook-user:hunter2-password@hooks.example/kpi' })
      .where('id', '=', id)
      .execute();
    const { webhooks } = (await send(t, '{ webhooks { url } }')).data as { webhooks: { url: string }[] };
    expect(webhooks).toEqual([{ url: 'https://hooks.example/kpi' }]);
  });

  it('checks again at delivery against the address connected to: a name that now resolves to loopback is not sent to', async () => {
    const t = await testApp({ env: { WEBHOOK_MAX_ATTEMPTS: '1' } });
    await t.program('HA');
    const target = await listener();
    // Stored while the name resolved to a public address (DNS rebinding), or by an older version.
    const { id } = (await send(t, createWebhook, { i: { url: 'https://hooks.example/kpi', secret: SECRET } })).data!
      .createWebhook as { id: string };
    const literal = (await send(t, createWebhook, { i: { url: 'https://hooks.example/kpi2', secret: SECRET } })).data!
      .createWebhook as { id: string };
    await t.app.services.db
      .updateTable('webhooks')
      .set({ url: `http://localhost:${target.port}/rebound` })
      .where('id', '=', id)
      .execute();
    await t.app.services.db
      .updateTable('webhooks')
      .set({ url: `http://[::ffff:127.0.0.1]:${target.port}/literal` })
      .where('id', '=', literal.id)
      .execute();
    const deliveries = await deliverAlert(t);
    expect(target.seen).toEqual([]);
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery.state).toBe('FAILED');
      expect(delivery.lastError).toMatch(/^refused: the webhook's address is a loopback address/);
    }
  });

  it('does not follow a redirect: the 302 is a failed attempt and its Location is never asked', async () => {
    const t = await testApp({ env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_MAX_ATTEMPTS: '1' } });
    await t.program('HA');
    const inside = await listener();
    const redirecting = await listener((res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/internal` }).end();
    });
    await send(t, createWebhook, { i: { url: `http://127.0.0.1:${redirecting.port}/hook`, secret: SECRET } });
    const [delivery] = await deliverAlert(t);
    expect(redirecting.seen).toEqual(['/hook']);
    expect(inside.seen).toEqual([]);
    expect(delivery).toMatchObject({ state: 'FAILED', attemptLog: [{ statusCode: 302 }] });
  });

  it("records a class of failure, never the socket's error: which internal ports are open is not told", async () => {
    const t = await testApp({ env: { WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_MAX_ATTEMPTS: '1' } });
    await t.program('HA');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await send(t, createWebhook, { i: { url: `http://127.0.0.1:${port}/hook`, secret: SECRET } });
    const [delivery] = await deliverAlert(t);
    expect(delivery.lastError).toBe('could not connect or send');
    expect(JSON.stringify(delivery)).not.toMatch(/ECONN|127\.0\.0\.1|port|:\d{2,5}\b/);
  });
});

describe('lists in arguments', () => {
  const many = (n: number, values: readonly string[]) => Array.from({ length: n }, (_, i) => values[i % values.length]);
  const ALERT_STATES = ['PENDING', 'FIRING', 'RESOLVED'] as const;
  const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

  it.each([
    [
      'alerts(states:)',
      'query ($v: [AlertState!]) { alerts(states: $v) { id } }',
      many(40_000, ALERT_STATES),
      'states',
    ],
    [
      'webhookDeliveries(states:)',
      'query ($v: [DeliveryState!]) { webhookDeliveries(states: $v) { id } }',
      many(40_000, DELIVERY_STATES),
      'states',
    ],
    [
      'createApiKey(input: { programIds })',
      'mutation ($v: [ID!]) { createApiKey(input: { name: "k", role: VIEWER, programIds: $v }) { key } }',
      many(40_000, ['A']),
      'input.programIds',
    ],
    [
      "a filter's values",
      'query ($v: [String!]!) { dashboard(programId: "A", filter: [{ key: "office", values: $v }]) { resolvedCases } }',
      many(40_000, ['Buffalo']),
      'filter.values',
    ],
    [
      'a filter list',
      'query ($f: [AttributeFilterInput!]) { dashboard(programId: "A", filter: $f) { resolvedCases } }',
      many(40_000, ['x']).map((key) => ({ key, values: ['v'] })),
      'filter',
    ],
  ])(
    'refuses 40,000 values in %s with BAD_USER_INPUT naming it and the bound, and changes nothing',
    async (_, query, list, field) => {
      const t = await testApp();
      await t.program('A');
      const variables = query.includes('$f') ? { f: list } : { v: list };
      const answer = await send(t, query, variables);
      expect(answer.errors).toHaveLength(1);
      expect(answer.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(answer.errors![0].message).toBe(
        `${field} may hold at most 1000 values (LIMIT_LIST_LENGTH); it holds 40000`,
      );
      expect((await send(t, '{ apiKeys { id } }')).data!.apiKeys).toEqual([]);
    },
  );

  it('refuses a long literal list too (with the token limit raised to allow it)', async () => {
    const t = await testApp({ env: { LIMIT_TOKENS: '100000', LIMIT_LIST_LENGTH: '10' } });
    const answer = await send(t, `{ alerts(states: [${many(11, ALERT_STATES).join(', ')}]) { id } }`);
    expect(answer.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'states' });
    expect(answer.errors?.[0].message).toMatch(/at most 10 values/);
  });

  it('answers correctly at the bound', async () => {
    const t = await testApp();
    await t.program('A');
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'A', caseId: 'c1', days: 30 } });
    await t.app.services.alerts.engine.judge(null);
    const firing = await send(t, 'query ($v: [AlertState!]) { alerts(states: $v) { state } }', {
      v: many(1_000, ['FIRING']),
    });
    expect(firing).toMatchObject({ data: { alerts: [{ state: 'FIRING' }] } });
    expect(firing.errors).toBeUndefined();
    const deliveries = await send(t, 'query ($v: [DeliveryState!]) { webhookDeliveries(states: $v) { id } }', {
      v: many(1_000, DELIVERY_STATES),
    });
    expect(deliveries).toMatchObject({ data: { webhookDeliveries: [] } });
    const key = await send(
      t,
      'mutation ($v: [ID!]) { createApiKey(input: { name: "k", role: VIEWER, programIds: $v }) { apiKey { programIds } } }',
      { v: many(1_000, ['A']) },
    );
    expect(key.errors).toBeUndefined();
    expect(key.data).toMatchObject({ createApiKey: { apiKey: { programIds: ['A'] } } });
  });
});
