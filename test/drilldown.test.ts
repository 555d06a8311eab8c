/** Drill-down (issue 19): Query.events, its orders, cursors, counts, rules and roles. */
import { describe, expect, it } from 'vitest';
import {
  CreateProgramWithDimensionsDocument,
  type EventInput,
  EventsDocument,
  type EventsQuery,
  type EventsQueryVariables,
  EventsPageDocument,
  RecordEventsDocument,
  RetractEventDocument,
} from './generated/operations.js';
import { iso, onlyError, type Result, type TestApp, testApp } from './helpers/app.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');
const DAY = 86_400_000;
const START = NOW - 200 * DAY;

async function setup() {
  const t = await testApp({ now: () => NOW, env: { RATE_LIMIT_PER_MINUTE: '0' } });
  for (const id of ['HA', 'OTHER'])
    await t.ok(CreateProgramWithDimensionsDocument, {
      input: {
        id,
        name: id,
        dimensions: [
          { key: 'office', label: 'Office' },
          { key: 'channel', label: 'Channel' },
        ],
      },
    });
  return t;
}

interface Stored {
  id: string;
  kind: string;
  caseId: string;
  value: number | null;
  occurredAt: number;
  attributes: Record<string, string>;
}

/** A mix of kinds, values and attributes, with repeated instants and values so that ties are common. */
function mixedEvents(count: number, programId = 'HA', seed = 1): EventInput[] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const kinds = ['RESOLUTION_TIME', 'SATISFACTION', 'CONFLICT'] as const;
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[Math.floor(next() * 3)];
    const attributes = [];
    if (next() < 0.8)
      attributes.push({ key: 'office', value: ['North', 'South', 'north', 'East'][Math.floor(next() * 4)] });
    if (next() < 0.6) attributes.push({ key: 'channel', value: ['web', 'phone'][Math.floor(next() * 2)] });
    return {
      kind,
      programId,
      caseId: `case-${i % 17}`,
      // Few distinct values and instants: many ties in both orders.
      value:
        kind === 'CONFLICT'
          ? null
          : kind === 'SATISFACTION'
            ? 1 + Math.floor(next() * 5)
            : Math.floor(next() * 6) * 1.5,
      occurredAt: iso(START + Math.floor(next() * 40) * 5 * DAY),
      attributes,
    };
  });
}

async function record(t: TestApp, events: EventInput[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) await t.ok(RecordEventsDocument, { events: events.slice(i, i + 1000) });
}

async function stored(t: TestApp, programId = 'HA'): Promise<(Stored & { retracted: boolean })[]> {
  const rows = await t.app.services.db.selectFrom('events').selectAll().where('program_id', '=', programId).execute();
  return rows.map((r) => ({
    id: String(r.id),
    kind: r.kind,
    caseId: r.case_id,
    value: r.value === null ? null : Number(r.value),
    occurredAt: Number(r.occurred_at),
    attributes: r.attributes ? JSON.parse(r.attributes) : {},
    retracted: r.retracted_at !== null,
  }));
}

/** The order the contract promises, computed here from the stored rows alone. */
function sorted(events: Stored[], orderBy: string): string[] {
  const sign = orderBy.endsWith('DESC') ? -1 : 1;
  const key = (e: Stored) => (orderBy.startsWith('VALUE') ? e.value : e.occurredAt);
  return [...events]
    .sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka === null || kb === null) {
        if (ka !== kb) return ka === null ? 1 : -1;
      } else if (ka !== kb) return sign * (ka - kb);
      return sign * (Number(a.id) - Number(b.id));
    })
    .map((e) => e.id);
}

/** Every page of a query, followed by its cursors; the ids in the order served. */
async function allPages(t: TestApp, variables: EventsQueryVariables, key?: string) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  let totalCount = -1;
  for (;;) {
    const { events }: EventsQuery = await t.ok(EventsDocument, { ...variables, after }, key);
    totalCount = events.totalCount;
    ids.push(...events.edges.map((e) => e.node.id));
    pages++;
    if (!events.pageInfo.hasNextPage) {
      return { ids, pages, totalCount };
    }
    expect(events.pageInfo.endCursor).toBe(events.edges.at(-1)!.cursor);
    after = events.pageInfo.endCursor;
  }
}

function expectBadInput(result: Result<unknown>, field: string) {
  const error = onlyError(result);
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.message).toContain(field);
  expect(result.data ?? null).toBeNull();
}

describe('events: orders and pages', () => {
  it('serves every event once, in each order, ties broken by id, whatever the page size', async () => {
    const t = await setup();
    await record(t, mixedEvents(120));
    await record(t, mixedEvents(20, 'OTHER', 7));
    const events = (await stored(t)).filter((e) => !e.retracted);
    for (const orderBy of ['OCCURRED_AT_DESC', 'OCCURRED_AT_ASC', 'VALUE_DESC', 'VALUE_ASC'] as const) {
      for (const first of [4, 7, 500]) {
        const got = await allPages(t, { programId: 'HA', orderBy, first });
        expect(got.ids, `${orderBy} by ${first}`).toEqual(sorted(events, orderBy));
        expect(got.totalCount).toBe(120);
        expect(got.pages).toBe(Math.ceil(120 / first));
      }
    }
  }, 120_000);

  it('orders by value within kinds, slowest resolution first, conflicts last in both value orders', async () => {
    const t = await setup();
    await record(t, mixedEvents(120));
    const events = await stored(t);
    const resolutions = events.filter((e) => e.kind === 'RESOLUTION_TIME');
    const slowest = await allPages(t, {
      programId: 'HA',
      kinds: ['RESOLUTION_TIME'],
      orderBy: 'VALUE_DESC',
      first: 10,
    });
    expect(slowest.ids).toEqual(sorted(resolutions, 'VALUE_DESC'));
    expect(slowest.totalCount).toBe(resolutions.length);
    const ascending = await allPages(t, { programId: 'HA', orderBy: 'VALUE_ASC', first: 9 });
    const conflicts = events.filter((e) => e.kind === 'CONFLICT').length;
    expect(ascending.ids.slice(-conflicts).every((id) => events.find((e) => e.id === id)!.kind === 'CONFLICT')).toBe(
      true,
    );
  });

  it('defaults to 50 newest first, and says when there is nothing more', async () => {
    const t = await setup();
    await record(t, mixedEvents(60));
    const { events } = await t.ok(EventsDocument, { programId: 'HA' });
    expect(events.edges).toHaveLength(50);
    expect(events.pageInfo.hasNextPage).toBe(true);
    expect(events.edges.map((e) => e.node.id)).toEqual(sorted(await stored(t), 'OCCURRED_AT_DESC').slice(0, 50));
    const empty = await t.ok(EventsDocument, { programId: 'OTHER' });
    expect(empty.events).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('neither repeats nor skips an event when others are recorded between pages', async () => {
    const t = await setup();
    await record(t, mixedEvents(100));
    const before = new Set((await stored(t)).map((e) => e.id));
    for (const orderBy of ['OCCURRED_AT_DESC', 'VALUE_ASC'] as const) {
      const seen: string[] = [];
      let after: string | null = null;
      let round = 0;
      for (;;) {
        const { events }: EventsQuery = await t.ok(EventsDocument, { programId: 'HA', orderBy, first: 8, after });
        seen.push(...events.edges.map((e) => e.node.id));
        if (!events.pageInfo.hasNextPage) break;
        after = events.pageInfo.endCursor;
        // Between pages: events before, at and after the cursor's position, with equal instants and values.
        await record(t, mixedEvents(3, 'HA', 1000 + round++));
      }
      expect(new Set(seen).size, `${orderBy}: a page repeated an event`).toBe(seen.length);
      for (const id of before) expect(seen, `${orderBy}: event ${id} was skipped`).toContain(id);
      // What was served is in order: an event recorded meanwhile appears only where it belongs.
      const all = await stored(t);
      expect(seen).toEqual(sorted(all, orderBy).filter((id) => seen.includes(id)));
    }
  });
});

describe('events: what they match', () => {
  it('takes range, kinds, a filter and a case id as a dashboard does, and counts what it lists', async () => {
    const t = await setup();
    await record(t, mixedEvents(400));
    const events = await stored(t);
    const from = START + 50 * DAY;
    const to = START + 150 * DAY + 1;
    const cases: {
      variables: Partial<EventsQueryVariables>;
      match: (e: Stored) => boolean;
    }[] = [
      { variables: { from: iso(from), to: iso(to) }, match: (e) => e.occurredAt >= from && e.occurredAt < to },
      { variables: { from: iso(from) }, match: (e) => e.occurredAt >= from },
      { variables: { kinds: ['SATISFACTION', 'CONFLICT'] }, match: (e) => e.kind !== 'RESOLUTION_TIME' },
      {
        // "north" and "North" are different values: the match is exact, case included.
        variables: { filter: [{ key: 'office', values: ['North'] }] },
        match: (e) => e.attributes.office === 'North',
      },
      {
        variables: { filter: [{ key: 'office', values: ['north', 'East'] }], from: iso(from), to: iso(to) },
        match: (e) => ['north', 'East'].includes(e.attributes.office) && e.occurredAt >= from && e.occurredAt < to,
      },
      {
        variables: {
          filter: [
            { key: 'office', values: ['South'] },
            { key: 'channel', values: ['web'] },
          ],
          kinds: ['RESOLUTION_TIME'],
        },
        match: (e) => e.attributes.office === 'South' && e.attributes.channel === 'web' && e.kind === 'RESOLUTION_TIME',
      },
      { variables: { caseId: 'case-3' }, match: (e) => e.caseId === 'case-3' },
    ];
    for (const { variables, match } of cases) {
      const expected = events.filter(match);
      expect(expected.length, JSON.stringify(variables)).toBeGreaterThan(0);
      const got = await allPages(t, { programId: 'HA', first: 37, ...variables });
      expect(got.ids, JSON.stringify(variables)).toEqual(sorted(expected, 'OCCURRED_AT_DESC'));
      expect(got.totalCount, JSON.stringify(variables)).toBe(expected.length);
    }
  });

  it('leaves retracted events out unless includeRetracted, and shows when they were retracted', async () => {
    const t = await setup();
    await record(t, mixedEvents(30));
    const [victim, other] = sorted(await stored(t), 'OCCURRED_AT_DESC');
    await t.ok(RetractEventDocument, { id: victim });
    const live = await allPages(t, { programId: 'HA', first: 10 });
    expect(live.ids).not.toContain(victim);
    expect(live.ids).toContain(other);
    expect(live.totalCount).toBe(29);
    const { events } = await t.ok(EventsDocument, { programId: 'HA', includeRetracted: true, first: 500 });
    expect(events.totalCount).toBe(30);
    const node = events.edges.find((e) => e.node.id === victim)!.node;
    expect(node.retractedAt).toBe(iso(NOW));
  });

  it('counts from the rollups where they hold the answer, and event by event where they do not', async () => {
    const t = await setup();
    await record(t, mixedEvents(200));
    const events = await stored(t);
    // Behind the rollups' back: one raw row goes. A rollup count still holds it; an exact count does not.
    const gone = events.find((e) => e.attributes.office === 'South' && e.occurredAt > START + 10 * DAY)!;
    await t.app.services.db.deleteFrom('events').where('id', '=', Number(gone.id)).execute();
    const total = (variables: Partial<EventsQueryVariables>) =>
      t.ok(EventsDocument, { programId: 'HA', first: 1, ...variables }).then((r) => r.events.totalCount);
    expect(await total({})).toBe(200);
    expect(await total({ filter: [{ key: 'office', values: ['South'] }] })).toBe(
      events.filter((e) => e.attributes.office === 'South').length,
    );
    expect(await total({ caseId: gone.caseId })).toBe(events.filter((e) => e.caseId === gone.caseId).length - 1);
    expect(await total({ includeRetracted: true })).toBe(199);
  });
});

describe('events: bad input', () => {
  it('refuses a cursor from another query, and a forged one, with BAD_USER_INPUT', async () => {
    const t = await setup();
    await record(t, mixedEvents(30));
    await record(t, mixedEvents(30, 'OTHER', 3));
    const { events } = await t.ok(EventsDocument, { programId: 'HA', first: 5 });
    const cursor = events.pageInfo.endCursor!;
    // Its own query takes it, and so does the same query with another page size.
    expect((await t.run(EventsDocument, { programId: 'HA', first: 9, after: cursor })).errors).toBeUndefined();
    const others: Partial<EventsQueryVariables>[] = [
      { programId: 'OTHER' },
      { orderBy: 'OCCURRED_AT_ASC' },
      { orderBy: 'VALUE_DESC' },
      { kinds: ['CONFLICT'] },
      { filter: [{ key: 'office', values: ['North'] }] },
      { caseId: 'case-1' },
      { includeRetracted: true },
      { from: iso(START) },
    ];
    for (const other of others)
      expectBadInput(await t.run(EventsDocument, { programId: 'HA', after: cursor, ...other }), 'after');
    const [payload, mac] = cursor.split('.');
    const position = JSON.parse(Buffer.from(payload, 'base64url').toString()) as [number, number];
    const moved = Buffer.from(JSON.stringify([position[0] - 1, position[1]])).toString('base64url');
    for (const forged of [
      `${moved}.${mac}`,
      'abc',
      '',
      `${payload}.${'A'.repeat(22)}`,
      `${payload}.${mac}x`,
      cursor.toLowerCase(),
    ])
      expectBadInput(await t.run(EventsDocument, { programId: 'HA', after: forged }), 'after');
  });

  it('takes first from 1 to 500', async () => {
    const t = await setup();
    await record(t, mixedEvents(5));
    for (const first of [0, -1, 501, 10_000])
      expectBadInput(await t.run(EventsDocument, { programId: 'HA', first }), 'first');
    for (const first of [1, 500])
      expect((await t.run(EventsDocument, { programId: 'HA', first })).errors).toBeUndefined();
  });

  it('refuses an empty range, empty kinds, a bad case id, and a filter on an undeclared key', async () => {
    const t = await setup();
    expectBadInput(await t.run(EventsDocument, { programId: 'HA', from: iso(NOW), to: iso(NOW) }), 'from');
    expectBadInput(await t.run(EventsDocument, { programId: 'HA', kinds: [] }), 'kinds');
    expectBadInput(await t.run(EventsDocument, { programId: 'HA', caseId: '' }), 'caseId');
    expectBadInput(
      await t.run(EventsDocument, { programId: 'HA', filter: [{ key: 'region', values: ['x'] }] }),
      'filter[0].key',
    );
  });
});

describe('events: who may read them', () => {
  it('answers VIEWER and ADMIN keys within their programs, and no one else', async () => {
    const t = await setup();
    await record(t, mixedEvents(10));
    for (const role of ['VIEWER', 'ADMIN'] as const) {
      const key = await t.key(role, ['HA']);
      expect((await t.ok(EventsPageDocument, { programId: 'HA' }, key)).events.edges).toHaveLength(10);
      expect(onlyError(await t.run(EventsPageDocument, { programId: 'OTHER' }, key)).extensions?.code).toBe(
        'FORBIDDEN',
      );
    }
    const integration = await t.key('INTEGRATION', ['HA']);
    expect(onlyError(await t.run(EventsPageDocument, { programId: 'HA' }, integration)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(onlyError(await t.run(EventsPageDocument, { programId: 'HA' }, null)).extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    expect(onlyError(await t.run(EventsPageDocument, { programId: 'NOPE' })).extensions?.code).toBe('NOT_FOUND');
  });
});
