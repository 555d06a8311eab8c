/**
 * Exports over HTTP (issue 19): events as CSV and NDJSON, a dashboard's series and breakdown as
 * CSV, over a real socket through the request handler. The CSV is read back with an RFC 4180
 * reader (helpers/csv.ts) and compared with what GraphQL answers for the same arguments.
 */
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { csvCell, csvRecord } from '../src/exports/csv.js';
import {
  CreateApiKeyDocument,
  CreateProgramWithDimensionsDocument,
  DashboardForExportDocument,
  type EventInput,
  EventsDocument,
  type EventsQuery,
  type EventsQueryVariables,
  RecordEventsDocument,
  RetractEventDocument,
  RevokeApiKeyDocument,
} from './generated/operations.js';
import { ADMIN_KEY, iso, type TestApp, testApp } from './helpers/app.js';
import { csvObjects, parseCsv } from './helpers/csv.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const DAY = 86_400_000;
const START = NOW - 60 * DAY;

async function setup() {
  const t = await testApp({ now: () => NOW, env: { RATE_LIMIT_PER_MINUTE: '0' } });
  for (const id of ['HA', 'OTHER'])
    await t.ok(CreateProgramWithDimensionsDocument, {
      input: {
        id,
        name: id,
        timezone: 'America/New_York',
        dimensions: [
          { key: 'office', label: 'Office' },
          { key: 'channel', label: 'Channel' },
        ],
      },
    });
  const { url } = await t.app.start();
  return { ...t, url: new URL(url).origin };
}

function events(count: number, programId = 'HA'): EventInput[] {
  const kinds = ['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const;
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % 3];
    return {
      kind,
      programId,
      caseId: `case-${i}`,
      value: kind === 'CONFLICT' ? null : kind === 'SATISFACTION' ? 1 + (i % 5) : (i % 13) * 0.75,
      reason: kind === 'CONFLICT' ? `reason ${i}` : null,
      occurredAt: iso(START + ((i * 7919) % 55) * DAY + i * 1000),
      attributes: [
        ...(i % 4 === 0 ? [] : [{ key: 'office', value: ['North', 'South', 'East'][i % 3] }]),
        ...(i % 5 === 0 ? [{ key: 'channel', value: 'web' }] : []),
      ],
    };
  });
}

async function get(url: string, key: string | null = ADMIN_KEY) {
  const response = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text(), response };
}

/** Every page of `events(…)` for the same arguments, oldest first: what an export must hold. */
async function listed(t: TestApp, variables: Omit<EventsQueryVariables, 'orderBy'>) {
  const nodes: EventsQuery['events']['edges'][number]['node'][] = [];
  let after: string | null = null;
  for (;;) {
    const { events }: EventsQuery = await t.ok(EventsDocument, {
      ...variables,
      orderBy: 'OCCURRED_AT_ASC' as const,
      first: 500,
      after,
    });
    nodes.push(...events.edges.map((e) => e.node));
    if (!events.pageInfo.hasNextPage) return nodes;
    after = events.pageInfo.endCursor;
  }
}

describe('CSV cells', () => {
  it('quotes as RFC 4180 says, guards formulas, and writes numbers as numbers', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const start of ['=', '+', '-', '@', '\t']) expect(csvCell(`${start}1+1`)).toBe(`'${start}1+1`);
    expect(csvCell('=HYPERLINK("http://x","a")')).toBe(`"'=HYPERLINK(""http://x"",""a"")"`);
    expect(csvCell('\rcmd')).toBe(`"'\rcmd"`);
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell(0)).toBe('0');
    expect(csvCell(null)).toBe('');
    expect(csvRecord(['a', 1, null, '-x'])).toBe("a,1,,'-x\r\n");
  });
});

describe('GET /export/events.csv and .ndjson', () => {
  it('streams every matching event oldest first, with one attr column per dimension, as events(…) lists them', async () => {
    const t = await setup();
    await t.ok(RecordEventsDocument, { events: events(900) });
    await t.ok(RecordEventsDocument, { events: events(30, 'OTHER') });
    const retracted = (await listed(t, { programId: 'HA' }))[5].id;
    await t.ok(RetractEventDocument, { id: retracted });
    const cases: [string, Omit<EventsQueryVariables, 'orderBy'>][] = [
      ['programId=HA', { programId: 'HA' }],
      ['programId=HA&includeRetracted=true', { programId: 'HA', includeRetracted: true }],
      [
        `programId=HA&from=${iso(START + 10 * DAY)}&to=${iso(START + 30 * DAY)}&kinds=RESOLUTION_TIME,CONFLICT`,
        {
          programId: 'HA',
          from: iso(START + 10 * DAY),
          to: iso(START + 30 * DAY),
          kinds: ['RESOLUTION_TIME', 'CONFLICT'],
        },
      ],
      [
        'programId=HA&filter.office=North&filter.office=East&filter.channel=web',
        {
          programId: 'HA',
          filter: [
            { key: 'office', values: ['North', 'East'] },
            { key: 'channel', values: ['web'] },
          ],
        },
      ],
      ['programId=HA&caseId=case-7', { programId: 'HA', caseId: 'case-7' }],
    ];
    for (const [query, variables] of cases) {
      const expected = await listed(t, variables);
      expect(expected.length, query).toBeGreaterThan(0);
      const csv = await get(`${t.url}/export/events.csv?${query}`);
      expect(csv.status, csv.text).toBe(200);
      expect(csv.type).toMatch(/^text\/csv/);
      expect(csv.response.headers.get('content-disposition')).toBe('attachment; filename="events-HA.csv"');
      expect(parseCsv(csv.text)[0]).toEqual([
        'id',
        'programId',
        'kind',
        'caseId',
        'value',
        'reason',
        'occurredAt',
        'recordedAt',
        'retractedAt',
        'attr.office',
        'attr.channel',
      ]);
      const rows = csvObjects(csv.text);
      expect(
        rows.map((r) => ({
          id: r.id,
          kind: r.kind,
          caseId: r.caseId,
          value: r.value === '' ? null : Number(r.value),
          occurredAt: r.occurredAt,
          retractedAt: r.retractedAt === '' ? null : r.retractedAt,
          attributes: [
            ...(r['attr.office'] ? [{ key: 'office', value: r['attr.office'] }] : []),
            ...(r['attr.channel'] ? [{ key: 'channel', value: r['attr.channel'] }] : []),
          ],
        })),
        query,
      ).toEqual(expected);
      for (const r of rows) {
        expect(r.programId).toBe('HA');
        expect(r.recordedAt).toBe(iso(NOW));
      }

      const ndjson = await get(`${t.url}/export/events.ndjson?${query}`);
      expect(ndjson.status).toBe(200);
      expect(ndjson.type).toMatch(/^application\/x-ndjson/);
      const lines = ndjson.text.split('\n');
      expect(lines.pop()).toBe('');
      const parsed = lines.map((line) => JSON.parse(line));
      expect(
        parsed.map(({ id, kind, caseId, value, occurredAt, retractedAt, attributes }) => ({
          id,
          kind,
          caseId,
          value,
          occurredAt,
          retractedAt,
          attributes,
        })),
      ).toEqual(expected);
    }
  }, 120_000);

  it('guards formulas and quotes fields in the file a spreadsheet opens', async () => {
    const t = await setup();
    const hostile = [
      { caseId: '=1+2', reason: '=HYPERLINK("http://evil","x")', office: '@SUM(A1)' },
      { caseId: '+44 20', reason: '\tTAB', office: '-2' },
      { caseId: 'plain, with comma', reason: 'line one\r\nline "two"', office: 'North' },
      { caseId: '-', reason: '\rCR', office: '+' },
    ];
    await t.ok(RecordEventsDocument, {
      events: hostile.map((h, i) => ({
        kind: 'CONFLICT' as const,
        programId: 'HA',
        caseId: h.caseId,
        reason: h.reason,
        occurredAt: iso(START + i * DAY),
        attributes: [{ key: 'office', value: h.office }],
      })),
    });
    await t.ok(RecordEventsDocument, {
      events: [{ kind: 'RESOLUTION_TIME', programId: 'HA', caseId: 'n', value: 0, occurredAt: iso(START + 9 * DAY) }],
    });
    const { text } = await get(`${t.url}/export/events.csv?programId=HA`);
    const rows = csvObjects(text);
    const guard = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);
    expect(rows.slice(0, 4).map((r) => [r.caseId, r.reason, r['attr.office']])).toEqual(
      hostile.map((h) => [guard(h.caseId), guard(h.reason), guard(h.office)]),
    );
    expect(rows.slice(0, 4).every((r) => r.value === '' && r.retractedAt === '' && r['attr.channel'] === '')).toBe(
      true,
    );
    expect(rows[4].value).toBe('0');
    // The raw text: numbers unquoted, the quote doubled inside a quoted field.
    expect(text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(text).toContain(',RESOLUTION_TIME,n,0,,');
  });

  it('answers bad parameters 400, no key or a revoked one 401, another program or role 403, an unknown program 404', async () => {
    const t = await setup();
    await t.ok(RecordEventsDocument, { events: events(10) });
    const viewer = await t.ok(CreateApiKeyDocument, { input: { name: 'v', role: 'VIEWER', programIds: ['HA'] } });
    const integration = await t.key('INTEGRATION', ['HA']);
    const revoked = await t.ok(CreateApiKeyDocument, { input: { name: 'r', role: 'VIEWER', programIds: ['HA'] } });
    expect((await get(`${t.url}/export/events.csv?programId=HA`, revoked.createApiKey.key)).status).toBe(200);
    await t.ok(RevokeApiKeyDocument, { id: revoked.createApiKey.apiKey.id });
    const cases: [string, string | null, number, string][] = [
      ['/export/events.csv?programId=HA', null, 401, 'UNAUTHENTICATED'],
      ['/export/events.csv?programId=HA', 'kpi_not-a-key', 401, 'UNAUTHENTICATED'],
      ['/export/events.csv?programId=HA', revoked.createApiKey.key, 401, 'UNAUTHENTICATED'],
      ['/export/events.ndjson?programId=HA', revoked.createApiKey.key, 401, 'UNAUTHENTICATED'],
      ['/export/dashboard.csv?programId=HA', revoked.createApiKey.key, 401, 'UNAUTHENTICATED'],
      ['/export/events.csv?programId=OTHER', viewer.createApiKey.key, 403, 'FORBIDDEN'],
      ['/export/events.ndjson?programId=OTHER', viewer.createApiKey.key, 403, 'FORBIDDEN'],
      ['/export/dashboard.csv?programId=OTHER', viewer.createApiKey.key, 403, 'FORBIDDEN'],
      ['/export/events.csv?programId=HA', integration, 403, 'FORBIDDEN'],
      ['/export/events.csv?programId=NOPE', ADMIN_KEY, 404, 'NOT_FOUND'],
      ['/export/dashboard.csv?programId=NOPE', ADMIN_KEY, 404, 'NOT_FOUND'],
      ['/export/events.csv', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/events.csv?programId=HA&kinds=RESOLUTION_TIME,NOPE', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/events.csv?programId=HA&from=yesterday', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/events.csv?programId=HA&sort=value', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/events.csv?programId=HA&filter.region=x', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/events.csv?programId=HA&includeRetracted=yes', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/dashboard.csv?programId=HA&by=region', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
      ['/export/dashboard.csv?programId=HA&granularity=FORTNIGHT', ADMIN_KEY, 400, 'BAD_USER_INPUT'],
    ];
    for (const [path, key, status, code] of cases) {
      const answer = await get(`${t.url}${path}`, key);
      expect(answer.status, `${path} with ${key}`).toBe(status);
      expect(answer.type).toMatch(/^application\/json/);
      const body = JSON.parse(answer.text);
      expect(body.error.code, path).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(0);
      expect(answer.text).not.toContain('case-');
    }
  });

  it('counts each export against its key as a GraphQL request is counted, and a failure without a key against the address', async () => {
    const t = await testApp({
      env: {
        RATE_LIMIT_PER_MINUTE: '1',
        RATE_LIMIT_BURST: '3',
        RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1',
        RATE_LIMIT_UNAUTHENTICATED_BURST: '2',
      },
    });
    // One operation of the admin key's three.
    await t.ok(CreateProgramWithDimensionsDocument, {
      input: { id: 'HA', name: 'HA', timezone: 'UTC', dimensions: [] },
    });
    const origin = new URL((await t.app.start()).url).origin;
    expect((await get(`${origin}/export/events.csv?programId=HA`)).status).toBe(200);
    expect((await get(`${origin}/export/dashboard.csv?programId=HA`)).status).toBe(200);
    const refused = await get(`${origin}/export/events.ndjson?programId=HA`);
    expect(refused.status).toBe(429);
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused.text).error).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/retry in \d+ s/),
    });
    // The allowance is the key's, over exports and GraphQL alike.
    const graphql = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ me { role } }' }),
    });
    expect(graphql.status).toBe(429);
    // Without a valid key: 401 while the address has allowance, then 429.
    for (const key of [null, 'not-a-key'])
      expect((await get(`${origin}/export/events.csv?programId=HA`, key)).status).toBe(401);
    const spent = await get(`${origin}/export/events.csv?programId=HA`, 'still-not-a-key');
    expect(spent.status).toBe(429);
    expect(JSON.parse(spent.text).error.message).toMatch(/without a valid API key from this address/);
  });

  it('reads no further while the client does not read, and stops when it leaves', async () => {
    const t = await setup();
    // 24,000 events of about 1 KB: 12 pages of 2,000, far more than the sockets' buffers hold.
    const long = 'x'.repeat(990);
    for (let i = 0; i < 12; i++)
      await t.ok(RecordEventsDocument, {
        events: events(2000).map((e, j) => ({
          ...e,
          kind: 'CONFLICT' as const,
          value: null,
          reason: long,
          caseId: `c-${i}-${j}`,
        })),
      });
    // Every page the server reads from here is counted.
    let pages = 0;
    t.app.services.db = t.app.services.db.withPlugin({
      transformQuery: ({ node }) => {
        if (node.kind === 'SelectQueryNode' && node.limit) pages++;
        return node;
      },
      transformResult: async ({ result }) => result,
    });
    let serverResponse: ServerResponse | undefined;
    t.app.server.on('request', (_req, res: ServerResponse) => {
      serverResponse = res;
    });
    const { port } = t.app.server.address() as AddressInfo;
    const req = request({
      port,
      path: '/export/events.csv?programId=HA',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const response = await new Promise<IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end();
    });
    expect(response.statusCode).toBe(200);
    response.pause();
    // The client reads nothing: the server fills the socket and waits for it to drain.
    await expect.poll(() => serverResponse?.writableNeedDrain, { timeout: 20_000 }).toBe(true);
    const whileStalled = pages;
    expect(whileStalled).toBeGreaterThan(0);
    expect(whileStalled).toBeLessThan(12);
    const closed = new Promise((resolve) => serverResponse!.once('close', resolve));
    response.destroy();
    req.destroy();
    await closed;
    // At most the page that was on its way when the client left.
    expect(pages).toBeLessThanOrEqual(whileStalled + 1);
  }, 120_000);
});

describe('GET /export/dashboard.csv', () => {
  it('streams the series, one row per bucket with every KPI, and with by= the breakdown, as GraphQL answers them', async () => {
    const t = await setup();
    await t.ok(RecordEventsDocument, { events: events(300) });
    const from = iso(START);
    const to = iso(START + 56 * DAY);
    const { dashboard } = await t.ok(DashboardForExportDocument, {
      programId: 'HA',
      from,
      to,
      granularity: 'WEEK',
      filter: [{ key: 'channel', values: ['web'] }],
      by: 'office',
    });
    const compare = (rows: Record<string, string>[], expected: Record<string, unknown>[], first: string) => {
      expect(rows).toHaveLength(expected.length);
      rows.forEach((row, i) => {
        const want = expected[i];
        expect(Object.keys(row).sort()).toEqual(
          Object.keys(want)
            .filter((k) => k !== '__typename')
            .sort(),
        );
        for (const [column, cell] of Object.entries(row)) {
          const value = want[column];
          if (column === first) expect(cell).toBe(value ?? '');
          else expect(cell === '' ? null : Number(cell), `${column} of row ${i}`).toBe(value);
        }
      });
    };
    const base = `${t.url}/export/dashboard.csv?programId=HA&from=${from}&to=${to}&granularity=WEEK&filter.channel=web`;
    const series = await get(base);
    expect(series.status, series.text).toBe(200);
    expect(series.response.headers.get('content-disposition')).toBe('attachment; filename="dashboard-HA.csv"');
    expect(dashboard.series.length).toBe(9);
    compare(csvObjects(series.text), dashboard.series, 'start');
    const breakdown = await get(`${base}&by=office`);
    expect(breakdown.status, breakdown.text).toBe(200);
    expect(dashboard.breakdown.length).toBeGreaterThan(1);
    compare(csvObjects(breakdown.text), dashboard.breakdown, 'value');
  });
});
