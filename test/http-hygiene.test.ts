/**
 * HTTP hygiene on a running server, read off raw sockets (fetch would decode for us): gzip and br
 * above the threshold for GraphQL answers and the page's files, identity for an unknown encoding and
 * for small answers, live streams never held back, Vary: Origin, ETags on the page, and no source
 * maps in production.
 */
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAST_FROM_BYTES } from '../src/http/compression.js';
import { WEB_ROOT } from '../src/http/static-files.js';
import { RecordEventsDocument } from './generated/operations.js';
import { ADMIN_KEY, testApp } from './helpers/app.js';

beforeAll(async () => {
  // `npm test` builds the page first; a lone run of this file builds it if it is missing.
  if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
    const { build } = await import('vite');
    await build({ configFile: 'web/vite.config.ts', logLevel: 'warn' });
  }
});

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on a plain socket; the body exactly as it came (still encoded). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Raw>((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const decode = (r: Raw) =>
  r.headers['content-encoding'] === 'gzip'
    ? gunzipSync(r.body)
    : r.headers['content-encoding'] === 'br'
      ? brotliDecompressSync(r.body)
      : r.body;

const YEAR_QUERY = JSON.stringify({
  query:
    '{ dashboard(from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { avgResolutionTime series { start resolvedCases avgResolutionTime avgSatisfaction totalConflicts } } }',
});

async function serverWithAYear(env: Record<string, string> = {}) {
  const t = await testApp({ env });
  await t.program('HA');
  await t.ok(RecordEventsDocument, {
    events: Array.from({ length: 50 }, (_, i) => ({
      programId: 'HA',
      caseId: `HA-${i}`,
      kind: 'RESOLUTION_TIME' as const,
      value: 1 + (i % 9),
      occurredAt: new Date(Date.UTC(2025, 0, 1 + i * 7)).toISOString(),
    })),
  });
  const { url } = await t.app.start();
  return { t, url, origin: new URL(url).origin };
}

const graphql = (url: string, encoding: string | null, body = YEAR_QUERY, extra: Record<string, string> = {}) =>
  raw(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(encoding === null ? {} : { 'accept-encoding': encoding }),
      ...extra,
    },
    body,
  });

describe('compression', () => {
  it('sends a large GraphQL answer as gzip or br, as asked, and as identity for an unknown encoding', async () => {
    const { url } = await serverWithAYear();
    const plain = await graphql(url, null);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const expected = JSON.parse(plain.body.toString());
    expect(expected.data.dashboard.series).toHaveLength(365);

    const gzip = await graphql(url, 'gzip');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.body.length).toBeLessThan(plain.body.length / 3);
    expect(JSON.parse(decode(gzip).toString())).toEqual(expected);

    const br = await graphql(url, 'br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(JSON.parse(decode(br).toString())).toEqual(expected);
    // Both offered: br, the smaller.
    expect((await graphql(url, 'gzip, deflate, br')).headers['content-encoding']).toBe('br');

    for (const unknown of ['x-unknown', 'compress', 'zstd;q=1, identity;q=0.5', '*;q=0, identity']) {
      const identity = await graphql(url, unknown);
      expect(identity.status, unknown).toBe(200);
      expect(identity.headers['content-encoding'], unknown).toBeUndefined();
      expect(JSON.parse(identity.body.toString()), unknown).toEqual(expected);
    }
    expect(String(gzip.headers.vary)).toMatch(/accept-encoding/i);
  });

  it('encodes answers from FAST_FROM_BYTES up once, at the fastest levels (gzip 1, br 1)', async () => {
    const { url } = await serverWithAYear();
    // The year's series under enough aliases to pass FAST_FROM_BYTES.
    const fields = 'start resolvedCases avgResolutionTime medianResolutionTime p90ResolutionTime avgSatisfaction csat';
    const aliases = Array.from({ length: 12 }, (_, i) => `s${i}: series { ${fields} }`).join(' ');
    const body = JSON.stringify({
      query: `{ dashboard(from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z") { ${aliases} } }`,
    });
    const plain = await graphql(url, null, body);
    expect(plain.body.length, plain.body.toString().slice(0, 300)).toBeGreaterThan(FAST_FROM_BYTES);
    for (const [encoding, fastest] of [
      ['gzip', (b: Buffer) => gzipSync(b, { level: 1 })],
      ['br', (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })],
    ] as const) {
      const answer = await graphql(url, `${encoding}, deflate`, body);
      expect(answer.headers['content-encoding'], encoding).toBe(encoding);
      expect(decode(answer).equals(plain.body), encoding).toBe(true);
      // The bytes of one pass at the fastest level (the default level's would be fewer).
      expect(answer.body.length, encoding).toBe(fastest(plain.body).length);
      expect(String(answer.headers.vary), encoding).toMatch(/accept-encoding/i);
    }
  });

  it('leaves small answers alone and never holds back a live stream', async () => {
    const { url } = await serverWithAYear();
    const small = await graphql(url, 'gzip, br', '{"query":"{ __typename }"}');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(small.body.toString())).toEqual({ data: { __typename: 'Query' } });

    // SSE: the first event arrives while the stream stays open, unencoded.
    const first = await new Promise<{ encoding: unknown; chunk: string }>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            'accept-encoding': 'gzip, br',
            authorization: `Bearer ${ADMIN_KEY}`,
          },
        },
        (res) => {
          res.once('data', (c: Buffer) => {
            resolve({ encoding: res.headers['content-encoding'], chunk: c.toString() });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ query: 'subscription { dashboardUpdated(programId: "HA") { resolvedCases } }' }));
    });
    // yoga marks its event streams `Content-Encoding: none`, which tells proxies not to buffer them.
    expect([undefined, 'none']).toContain(first.encoding);
    expect(first.chunk).toMatch(/resolvedCases|:/);
  });

  it("compresses the page's script and style, with ETags, and answers 304 to a revalidation", async () => {
    const { origin } = await serverWithAYear();
    const html = await raw(`${origin}/`, { headers: { 'accept-encoding': 'gzip' } });
    expect(html.status).toBe(200);
    const etag = String(html.headers.etag);
    expect(etag).toMatch(/^W\/".+"$/);
    const again = await raw(`${origin}/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const script = decode(html)
      .toString()
      .match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeTruthy();
    const js = await raw(`${origin}${script}`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(js.headers['content-encoding']).toBe('br');
    expect(js.headers.etag).toBeTruthy();
    expect(decode(js).length).toBeGreaterThan(js.body.length * 2);
  });
});

describe('Vary: Origin and source maps', () => {
  it('says Vary: Origin on GraphQL answers, listed origin or not', async () => {
    const { url } = await serverWithAYear({ CORS_ORIGINS: 'https://kpi.example.gov' });
    for (const origin of ['https://kpi.example.gov', 'https://elsewhere.example', null]) {
      const r = await graphql(url, null, '{"query":"{ __typename }"}', origin ? { origin } : {});
      expect(String(r.headers.vary), String(origin)).toMatch(/(^|,\s*)origin(\s*,|$)/i);
    }
    const listed = await graphql(url, null, '{"query":"{ __typename }"}', { origin: 'https://kpi.example.gov' });
    expect(listed.headers['access-control-allow-origin']).toBe('https://kpi.example.gov');
  });

  it('serves source maps in development only', async () => {
    const map = readdirSync(path.join(WEB_ROOT, 'assets')).find((f) => f.endsWith('.map'));
    expect(map, 'the page build writes source maps').toBeTruthy();
    const dev = await serverWithAYear();
    expect((await raw(`${dev.origin}/assets/${map}`)).status).toBe(200);
    const production = await serverWithAYear({ NODE_ENV: 'production' });
    expect((await raw(`${production.origin}/assets/${map}`)).status).toBe(404);
    expect((await raw(`${production.origin}/`)).status).toBe(200);
  });
});
