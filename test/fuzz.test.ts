/**
 * Thousands of malformed and hostile requests against a running server on a real port: broken
 * JSON, wrong types, random operations built from the schema, deep nesting, long strings,
 * unicode, huge numbers, HTTP and WebSocket protocol abuse. Every answer must be a 4xx or a
 * GraphQL answer, never a 5xx, never an internal error, never an unmasked message (stack, SQL,
 * file path); the server must stay up. The generator is seeded, so a failure can be replayed.
 */
import { request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { schema } from '../src/schema/index.js';
import { RevokeApiKeyDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const HTTP_CASES = 4_600;
const SOCKET_CASES = 500;

/** mulberry32: small, fast, seeded. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
type Rng = ReturnType<typeof prng>;

/** Messages that would mean an internal detail escaped. */
const LEAK =
  /\bat [\w.<>]+ \(|\/work\/|node_modules|\.ts:\d|\.js:\d|sqlite|SQLITE_|no such (table|column)|syntax error at or near|select \*|insert into|relation "|TypeError|RangeError|ReferenceError|Cannot read prop|undefined is not|is not a function/i;

const HOSTILE_STRINGS = [
  '',
  ' ',
  'a'.repeat(10_000),
  'é'.repeat(3_000),
  '🚀'.repeat(2_000),
  '\u0000',
  'nul\u0000inside',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u2066rtl',
  '\u200b\ufeff',
  "'; drop table events; --",
  '" OR 1=1 --',
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  '{{7*7}}${7*7}',
  '__proto__',
  'constructor',
  '2026-03-01T12:00:00Z',
  '2026-02-30T12:00:00Z',
  '9999-12-31T23:59:59.999999999+14:00',
  '-271821-04-20T00:00:00Z',
  '2026-03-01',
  'NaN',
  'Infinity',
  'America/New_York',
  'Not/AZone',
  'UTC',
  'p',
  'q',
  'P',
];
const HOSTILE_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  4.2,
  5,
  6,
  2_147_483_647,
  2_147_483_648,
  -2_147_483_649,
  1e15,
  1e308,
  -1e308,
  5e-324,
  Number.MAX_SAFE_INTEGER,
  36_500.0001,
  10_000,
  10_001,
];

function hostileScalar(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
    case 1:
      return rng.pick(HOSTILE_STRINGS);
    case 2:
    case 3:
      return rng.pick(HOSTILE_NUMBERS);
    case 4:
      return rng.pick([true, false, null]);
    default:
      return rng.pick([[], {}, [1, 'x'], { a: 1 }, { __proto__: { polluted: true } }, [[[[]]]]]);
  }
}

/** A value for an input type: mostly well-typed with hostile contents, sometimes of the wrong type. */
function inputValue(rng: Rng, type: GraphQLInputType, depth = 0): unknown {
  if (rng.chance(0.08) || depth > 4) return hostileScalar(rng);
  if (isNonNullType(type)) return inputValue(rng, type.ofType, depth);
  if (rng.chance(0.08)) return null;
  if (isListType(type))
    return Array.from({ length: rng.pick([0, 1, 2, 3, 50]) }, () => inputValue(rng, type.ofType, depth + 1));
  if (isEnumType(type)) return rng.chance(0.85) ? rng.pick(type.getValues()).name : rng.pick(['NOPE', 'firing', '', 1]);
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields()))
      if (rng.chance(0.85)) value[field.name] = inputValue(rng, field.type, depth + 1);
    if (rng.chance(0.1)) value[rng.pick(['extra', '__proto__', 'constructor'])] = hostileScalar(rng);
    return value;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return rng.chance(0.7) ? rng.pick([1, 10, 100, 1000, 0, -1, 2026, 3]) : rng.pick(HOSTILE_NUMBERS);
      case 'Float':
        return rng.pick(HOSTILE_NUMBERS);
      case 'Boolean':
        return rng.chance(0.9) ? rng.chance(0.5) : 'yes';
      case 'ID':
        return rng.chance(0.6)
          ? rng.pick(['p', 'q', '1', '2', '999999999999999', 'no-such-id'])
          : rng.pick(HOSTILE_STRINGS);
      case 'DateTime':
        return rng.pick([
          '2026-03-01T00:00:00Z',
          '2026-01-01T00:00:00-05:00',
          '2027-01-01T00:00:00Z',
          ...HOSTILE_STRINGS.slice(19, 26),
        ]);
      default:
        return rng.pick(HOSTILE_STRINGS);
    }
  }
  return hostileScalar(rng);
}

function selection(rng: Rng, type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (!isObjectType(named)) return '';
  const fields = Object.values(named.getFields());
  const chosen = fields.filter(() => rng.chance(0.5));
  if (chosen.length === 0) chosen.push(rng.pick(fields));
  const parts = chosen.map((field) => {
    const inner = isObjectType(getNamedType(field.type))
      ? depth > 3
        ? '{ __typename }'
        : `{ ${selection(rng, field.type, depth + 1)} }`
      : '';
    return `${field.name} ${inner}`;
  });
  if (rng.chance(0.05))
    parts.push(rng.pick(['nope', '__schema { types { name } }', 'id(x: 1)', '__typename @skip(if: $nope)']));
  return parts.join(' ');
}

/** A random operation on a random root field of the schema, its arguments sent as variables. */
function randomOperation(rng: Rng): { query: string; variables: Record<string, unknown> } {
  const kind = rng.pick(['query', 'query', 'mutation'] as const);
  const root = (kind === 'query' ? schema.getQueryType() : schema.getMutationType()) as GraphQLObjectType;
  const field: GraphQLField<unknown, unknown> = rng.pick(Object.values(root.getFields()));
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const args: string[] = [];
  for (const [i, arg] of field.args.entries()) {
    if (!isNonNullType(arg.type) && rng.chance(0.4)) continue;
    const name = `v${i}`;
    // Sometimes declare the wrong type for the variable.
    const declared = rng.chance(0.05) ? rng.pick(['String', 'Int!', '[ID!]', 'Boolean']) : String(arg.type);
    definitions.push(`$${name}: ${declared}`);
    args.push(`${arg.name}: $${name}`);
    if (!rng.chance(0.05)) variables[name] = inputValue(rng, arg.type);
  }
  const sel = selection(rng, field.type, 1);
  const query = `${kind} Fuzz${definitions.length ? `(${definitions.join(', ')})` : ''} { ${field.name}${args.length ? `(${args.join(', ')})` : ''} ${sel ? `{ ${sel} }` : ''} }`;
  return { query, variables };
}

const TOKENS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '$',
  '!',
  '@',
  '...',
  '"',
  '"""',
  '#',
  'query',
  'mutation',
  'subscription',
  'fragment',
  'on',
  'me',
  'programs',
  'id',
  'dashboard',
  '1',
  '-',
  '=',
  '|',
  '&',
  '\\u0000',
  '\n',
  'é',
  '🚀',
];

interface HttpCase {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

function httpCase(rng: Rng, keys: string[]): HttpCase {
  const json = { 'content-type': 'application/json' };
  const auth = (): Record<string, string> =>
    rng.chance(0.9)
      ? { authorization: `Bearer ${rng.pick(keys)}` }
      : rng.pick<Record<string, string>>([
          {},
          { authorization: 'Basic abc' },
          { authorization: 'Bearer ' },
          { authorization: `Bearer ${'x'.repeat(8000)}` },
        ]);
  const post = (body: string | Buffer, extra: Record<string, string> = {}): HttpCase => ({
    body,
    headers: { ...json, ...auth(), ...extra },
  });
  const kind = rng.int(100);
  if (kind < 35) return post(JSON.stringify(randomOperation(rng)));
  if (kind < 45) {
    // Broken JSON.
    const valid = JSON.stringify(randomOperation(rng));
    return post(
      rng.pick([
        valid.slice(0, rng.int(valid.length)),
        valid.replace(/"/g, "'"),
        `${valid}}`,
        '{',
        '',
        'null',
        'true',
        '"query"',
        '12345678901234567890e999',
        '[]',
        '[{"query": "{ me { role } }"}]',
        '{"query": null}',
        '{"query": 42}',
        '{"query": ["{ me { role } }"]}',
        '{"query": "{ me { role } }", "variables": "x"}',
        '{"query": "{ me { role } }", "variables": [1]}',
        '{"query": "{ me { role } }", "operationName": 7}',
        '{"query": "{ me { role } }", "extensions": "x"}',
        '{"query": "{ me { role } }", "__proto__": {"admin": true}}',
        '\u0000\u0001\u0002',
        Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('latin1'),
      ]),
    );
  }
  if (kind < 55) {
    // Wrong types for a known operation's variables.
    const query = rng.pick([
      'mutation ($e: [EventInput!]!) { recordEvents(events: $e) { accepted duplicates } }',
      'mutation ($i: RecordSatisfactionInput!) { recordSatisfaction(input: $i) { duplicate event { id } } }',
      'query ($p: ID, $f: DateTime, $t: DateTime, $g: Granularity, $z: String) { dashboard(programId: $p, from: $f, to: $t, granularity: $g, timezone: $z) { resolvedCases series { start } } }',
      'query ($l: Int, $s: [AlertState!]) { alerts(limit: $l, states: $s) { id } }',
      'query ($y: Int!, $p: ID!, $q: Int) { fiscalScorecard(fiscalYear: $y, programId: $p, quarter: $q) { rows { kpi status } } }',
    ]);
    const variables = Object.fromEntries(
      ['e', 'i', 'p', 'f', 't', 'g', 'z', 'l', 's', 'y', 'q'].map((v) => [v, hostileScalar(rng)]),
    );
    return post(JSON.stringify({ query, variables }));
  }
  if (kind < 63) {
    // Token soup for the parser.
    const soup = Array.from({ length: rng.pick([1, 5, 50, 400, 3000]) }, () => rng.pick(TOKENS)).join(
      rng.pick([' ', '', '\n']),
    );
    return post(JSON.stringify({ query: soup }));
  }
  if (kind < 70) {
    // Deep nesting: of selections, of lists in variables, of input objects.
    const depth = rng.pick([50, 500, 5_000]);
    return post(
      rng.pick([
        () => JSON.stringify({ query: `{ ${'programs { '.repeat(depth)}id${' }'.repeat(depth)} }` }),
        () => JSON.stringify({ query: `{ ${'a: me { '.repeat(depth)}role${' }'.repeat(depth)} }` }),
        () =>
          `{"query": "query ($s: [AlertState!]) { alerts(states: $s) { id } }", "variables": {"s": ${'['.repeat(depth)}${']'.repeat(depth)}}}`,
        () => `{"query": "{ me { role } }", "variables": ${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
        () => '['.repeat(depth * 4) + ']'.repeat(depth * 4),
      ])(),
    );
  }
  if (kind < 76) {
    // Long strings and odd unicode in every place a string can go.
    const long = rng.pick(HOSTILE_STRINGS.slice(2, 11));
    return post(
      rng.pick([
        JSON.stringify({ query: `{ program(id: ${JSON.stringify(long)}) { id } }` }),
        JSON.stringify({ query: '{ me { role } }', operationName: long }),
        JSON.stringify({ query: `# ${long}\n{ me { role } }` }),
        JSON.stringify({
          query: `mutation { recordConflict(input: { programId: "p", caseId: ${JSON.stringify(long)}, reason: ${JSON.stringify(long)} }) { event { id } } }`,
        }),
      ]),
      rng.chance(0.2) ? { 'x-junk': long.slice(0, 100).replace(/[^\x20-\x7e]/g, '?') } : {},
    );
  }
  if (kind < 78) {
    // Bodies over the size limit, declared or not.
    return post(JSON.stringify({ query: '{ me { role } }', variables: { pad: 'x'.repeat(3_200_000) } }));
  }
  if (kind < 88) {
    // Methods, paths and content types nobody should send.
    return rng.pick<HttpCase>([
      { method: 'GET', path: `/graphql?query=${encodeURIComponent(randomOperation(rng).query)}`, headers: auth() },
      {
        method: 'GET',
        path: '/graphql?query=mutation%20%7B%20createProgram(input%3A%7Bid%3A%22x%22%2Cname%3A%22x%22%7D)%20%7B%20id%20%7D%20%7D',
        headers: auth(),
      },
      { method: 'GET', path: '/graphql?query=%7B&variables=%7B', headers: auth() },
      { method: 'GET', path: `/graphql?${'a=1&'.repeat(500)}`, headers: auth() },
      { method: 'PUT', body: '{"query":"{ me { role } }"}', headers: { ...json, ...auth() } },
      { method: 'DELETE', headers: auth() },
      { method: 'PATCH', body: 'x', headers: auth() },
      { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } },
      { method: 'HEAD', headers: auth() },
      { body: '{"query":"{ me { role } }"}', headers: { 'content-type': 'text/plain', ...auth() } },
      {
        body: 'query=%7B%20me%20%7B%20role%20%7D%20%7D',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth() },
      },
      {
        body: '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ me { role } }"}\r\n--x--',
        headers: { 'content-type': 'multipart/form-data; boundary=x', ...auth() },
      },
      { body: '--x\r\n\r\n', headers: { 'content-type': 'multipart/form-data', ...auth() } },
      {
        body: '{"query":"{ me { role } }"}',
        headers: { 'content-type': 'application/json; charset=utf-16', ...auth() },
      },
      {
        body: '{"query":"{ me { role } }"}',
        headers: { 'content-type': 'application/graphql-response+json', accept: 'application/xml', ...auth() },
      },
      { body: '{"query":"{ me { role } }"}', headers: { ...json, 'content-encoding': 'gzip', ...auth() } },
      { body: '{"query":"{ me { role } }"}', headers: { ...json, 'content-length': '5', ...auth() } },
      { path: '/graphql/../metrics', body: '{}', headers: json },
      { method: 'GET', path: '/%2e%2e/%2e%2e/etc/passwd' },
      { method: 'GET', path: `/health?x=${'y'.repeat(2000)}` },
      { method: 'GET', path: '/metrics', headers: auth() },
      { method: 'GET', path: '/index.html/../../package.json' },
    ]);
  }
  // A valid operation from a key that should not run it, or with a revoked or unknown key.
  return post(JSON.stringify(randomOperation(rng)), {
    authorization: `Bearer ${rng.pick([...keys, `kpi_${'A'.repeat(43)}`, 'x'])}`,
  });
}

interface Outcome {
  status: number;
  text: string;
}

function send(port: number, c: HttpCase): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: c.method ?? 'POST',
        path: c.path ?? '/graphql',
        headers: c.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    // The server may answer (413) and close before a large body is written whole.
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: 499, text: '' }) : reject(error),
    );
    if (c.body !== undefined && c.method !== 'GET' && c.method !== 'HEAD') req.write(c.body);
    req.end();
  });
}

function judge(c: HttpCase, outcome: Outcome, failures: string[]) {
  const where = () => `${c.method ?? 'POST'} ${c.path ?? '/graphql'} ${String(c.body ?? '').slice(0, 200)}`;
  if (outcome.status >= 500 || outcome.status === 0)
    failures.push(`${outcome.status} for ${where()}: ${outcome.text.slice(0, 300)}`);
  if (LEAK.test(outcome.text)) failures.push(`leak for ${where()}: ${outcome.text.slice(0, 300)}`);
  if ((c.path ?? '/graphql').startsWith('/graphql') && /INTERNAL_SERVER_ERROR|Unexpected error\./.test(outcome.text))
    failures.push(`internal error for ${where()}: ${outcome.text.slice(0, 300)}`);
  if (
    outcome.status >= 200 &&
    outcome.status < 300 &&
    (c.path ?? '/graphql') === '/graphql' &&
    c.method !== 'OPTIONS' &&
    c.method !== 'HEAD'
  ) {
    // A 2xx from GraphQL is a GraphQL answer: data, errors, or both.
    let body: { data?: unknown; errors?: unknown } | null = null;
    try {
      body = JSON.parse(outcome.text);
    } catch {
      // reported below
    }
    if (!body || typeof body !== 'object' || !('data' in body || 'errors' in body))
      failures.push(`not a GraphQL answer for ${where()}: ${outcome.text.slice(0, 200)}`);
  }
}

/** Socket abuse: each case opens a socket, misbehaves, and expects a protocol close, never 4500/1011. */
function socketCase(rng: Rng, keys: string[]): { protocol: string | string[]; messages: (string | Buffer)[] } {
  const init = (key: string) =>
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
  const subscribe = (id: unknown, payload: unknown) => JSON.stringify({ id, type: 'subscribe', payload });
  const sub = schema.getSubscriptionType()!;
  const field = rng.pick(Object.values(sub.getFields()));
  const variables = Object.fromEntries(field.args.map((a) => [a.name, inputValue(rng, a.type)]));
  const document = `subscription S(${field.args.map((a) => `$${a.name}: ${a.type}`).join(', ')}) { ${field.name}(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')}) { ${selection(rng, field.type, 1)} } }`;
  const key = rng.pick(keys);
  const abuse = rng.pick<(string | Buffer)[]>([
    ['not json'],
    ['{"type":'],
    [JSON.stringify({ type: 'subscribe' })],
    [subscribe('1', { query: '{ me { role } }' })],
    [init(key), init(key)],
    [init(key), subscribe('1', { query: document, variables }), subscribe('1', { query: document, variables })],
    [init(key), subscribe(null, { query: '{ me { role } }' })],
    [init(key), subscribe('x'.repeat(10_000), { query: document, variables })],
    [init(key), subscribe('2', { query: document, variables })],
    [init(key), subscribe('3', { query: rng.pick(TOKENS).repeat(rng.int(5000)) })],
    [
      init(key),
      subscribe('4', {
        query: `subscription { ${'dashboardUpdated { activeAlerts { rule { id } } } '.repeat(1)} }`,
        variables: 'x',
      }),
    ],
    [
      init(key),
      JSON.stringify({ type: 'complete', id: 'never-started' }),
      JSON.stringify({ type: 'ping' }),
      JSON.stringify({ type: 'pong', payload: 1 }),
    ],
    [init(key), JSON.stringify({ type: 'next', id: '1', payload: {} })],
    [init(key), JSON.stringify({ type: 'connection_ack' })],
    [init(key), JSON.stringify({ type: 'unknown' })],
    [JSON.stringify({ type: 'connection_init', payload: 'not an object' })],
    [JSON.stringify({ type: 'connection_init', payload: { authorization: 42 } })],
    [JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${'z'.repeat(100_000)}` } })],
    [Buffer.from([0xff, 0x00, 0x13, 0x37])],
    [
      init(key),
      `{"id":"5","type":"subscribe","payload":{"query":"{ me { role } }","variables":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
    ],
    [init(key), 'x'.repeat(3_300_000)],
  ]);
  return {
    protocol: rng.chance(0.05) ? rng.pick(['graphql-ws', 'nonsense', ['a', 'b']]) : 'graphql-transport-ws',
    messages: abuse,
  };
}

/** Runs one socket case; resolves with the close code (or 0 when it stayed open and we closed it). */
function runSocket(
  url: string,
  c: { protocol: string | string[]; messages: (string | Buffer)[] },
): Promise<{ code: number; answers: string[] }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, c.protocol);
    const answers: string[] = [];
    let settled = false;
    const done = (code: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.terminate();
      resolve({ code, answers });
    };
    // A socket that is still open after its messages got answered (or ignored) is fine: end it.
    const timer = setTimeout(() => done(0), 1_500);
    socket.on('message', (data) => {
      answers.push(String(data));
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'error' || message.type === 'complete' || message.type === 'next')
        setTimeout(() => done(0), 50);
    });
    socket.on('close', (code) => done(code));
    socket.on('error', () => done(-1));
    socket.on('unexpected-response', (_req, res) => done(res.statusCode ?? -2));
    socket.on('open', () => {
      for (const m of c.messages) socket.send(m);
    });
  });
}

async function pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

describe('fuzzing a running server', () => {
  it(`answers ${HTTP_CASES + SOCKET_CASES} malformed or hostile requests with 4xx or GraphQL errors, never a 5xx or a leak, and stays up`, {
    timeout: 120_000,
  }, async () => {
    // No rate limits: thousands of cases, many without a valid key, each must reach what it probes.
    const t = await testApp({ env: { RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '0' } });
    await t.program('p');
    await t.program('q');
    const keys = [ADMIN_KEY, await t.key('VIEWER', ['p']), await t.key('INTEGRATION', ['p']), await t.key('VIEWER')];
    const { createApiKey } = await t.ok((await import('./generated/operations.js')).CreateApiKeyDocument, {
      input: { name: 'gone', role: 'ADMIN' },
    });
    await t.ok(RevokeApiKeyDocument, { id: createApiKey.apiKey.id });
    keys.push(createApiKey.key);
    const { port, url } = await t.app.start();
    const wsUrl = url.replace(/^http/, 'ws');

    const rng = prng(SEED);
    const failures: string[] = [];
    const httpCases = Array.from({ length: HTTP_CASES }, () => httpCase(rng, keys));
    let sent = 0;
    await pool(httpCases, 8, async (c) => {
      judge(c, await send(port, c), failures);
      sent++;
    });

    // Raw bytes that are not HTTP at all: the server must drop or refuse them and carry on.
    const garbage = [
      'GARBAGE\r\n\r\n',
      'POST /graphql HTTP/1.1\r\nContent-Length: -1\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      '\u0000'.repeat(100),
    ];
    for (const bytes of garbage) {
      await new Promise<void>((resolve) => {
        const socket = tcpConnect(port, '127.0.0.1', () => socket.end(bytes));
        socket.on('data', (data) => {
          if (/^HTTP\/1\.1 5/.test(String(data))) failures.push(`5xx for raw bytes ${JSON.stringify(bytes)}`);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
      sent++;
    }

    const socketCases = Array.from({ length: SOCKET_CASES }, () => socketCase(rng, keys));
    await pool(socketCases, 8, async (c) => {
      const { code, answers } = await runSocket(wsUrl, c);
      if (code === 4500 || code === 1011 || (code >= 500 && code < 600))
        failures.push(
          `socket closed with ${code} after ${JSON.stringify(c.messages.map((m) => String(m).slice(0, 120)))}`,
        );
      for (const answer of answers) {
        if (LEAK.test(answer) || /INTERNAL_SERVER_ERROR|Unexpected error\./.test(answer))
          failures.push(`socket answer leaked or failed: ${answer.slice(0, 300)}`);
      }
      sent += c.messages.length;
    });

    console.log(`fuzz: ${sent} hostile requests and socket messages (seed ${SEED}), ${failures.length} failures`);
    // One line per kind of failure (the first 100 characters), so a flood of the same reads as one.
    expect([...new Map(failures.map((f) => [f.slice(0, 100), f])).values()]).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(5_000);

    // Still up, still right.
    expect((await send(port, { method: 'GET', path: '/health' })).status).toBe(200);
    const me = await send(port, {
      body: JSON.stringify({ query: '{ me { role } }' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(JSON.parse(me.text)).toEqual({ data: { me: { role: 'ADMIN' } } });
  });
});
