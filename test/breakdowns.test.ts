/** Filters and breakdowns (issue 18): exact against the recorded events, every bad input, live. */
import { describe, expect, it } from 'vitest';
import {
  BreakdownDocument,
  BreakdownTotalsDocument,
  CreateProgramWithDimensionsDocument,
  FilteredDashboardDocument,
  LiveBreakdownDocument,
  RecordAttributedDocument,
  RecordEventsDocument,
  RetractEventDocument,
  type EventInput,
} from './generated/operations.js';
import { iso, onlyError, testApp, type Result, type TestApp } from './helpers/app.js';
import { connect, listen } from './helpers/ws.js';

const DAY = 86_400_000;
const FROM = Date.parse('2026-03-01T00:00:00.000Z');
const TO = FROM + 10 * DAY;
const NOW = Date.parse('2026-03-20T12:00:00.000Z');

interface Recorded {
  programId: string;
  days: number;
  at: number;
  attributes: Record<string, string>;
}

const OFFICES = ['North', 'South', 'East'];
const CHANNELS = ['web', 'phone'];

/** HA (New York) declares office and channel; HB (UTC) declares office only. */
async function setup(t: TestApp) {
  await t.ok(CreateProgramWithDimensionsDocument, {
    input: {
      id: 'HA',
      name: 'A',
      timezone: 'America/New_York',
      dimensions: [
        { key: 'office', label: 'Office' },
        { key: 'channel', label: 'Channel' },
      ],
    },
  });
  await t.ok(CreateProgramWithDimensionsDocument, {
    input: { id: 'HB', name: 'B', dimensions: [{ key: 'office', label: 'Office' }] },
  });
  const recorded: Recorded[] = [];
  const events: EventInput[] = [];
  for (let i = 0; i < 120; i++) {
    const programId = i % 4 === 0 ? 'HB' : 'HA';
    const attributes: Record<string, string> = {};
    if (i % 5 !== 0) attributes.office = OFFICES[i % 3];
    if (programId === 'HA' && i % 7 !== 0) attributes.channel = CHANNELS[i % 2];
    // Spread over the range and a little beyond it, at odd hours, so edges are partial buckets.
    const at = FROM - DAY + Math.floor((i * 12 * DAY) / 120) + (i % 11) * 3_600_000 + 61_000;
    const days = 1 + ((i * 7) % 13) + (OFFICES[i % 3] === 'South' ? 5 : 0);
    recorded.push({ programId, days, at, attributes });
    events.push({
      kind: 'RESOLUTION_TIME',
      programId,
      caseId: `c${i}`,
      value: days,
      occurredAt: iso(at),
      attributes: Object.entries(attributes).map(([key, value]) => ({ key, value })),
    });
  }
  await t.ok(RecordEventsDocument, { events });
  return recorded;
}

function naive(recorded: Recorded[], keep: (r: Recorded) => boolean, from = FROM, to = TO) {
  const rows = recorded.filter((r) => r.at >= from && r.at < to && keep(r));
  const sum = rows.reduce((s, r) => s + r.days, 0);
  return { resolvedCases: rows.length, avgResolutionTime: rows.length ? sum / rows.length : null };
}

function expectClose(actual: number | null | undefined, expected: number | null) {
  if (expected === null) expect(actual).toBeNull();
  else expect(actual).toBeCloseTo(expected, 9);
}

function expectBadInput(result: Result<unknown>, field: string, rule: string) {
  const error = onlyError(result);
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.extensions?.field).toBe(field);
  expect(error.message).toContain(field);
  expect(error.message).toContain(rule);
}

describe('filters', () => {
  it('answer one key from the value rollups exactly, totals and series, in the program zone', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    for (const filter of [
      [{ key: 'office', values: ['North'] }],
      [{ key: 'office', values: ['South', 'North'] }],
      [{ key: 'channel', values: ['web'] }],
    ]) {
      const keep = (r: Recorded) => r.programId === 'HA' && filter[0].values.includes(r.attributes[filter[0].key]);
      const { dashboard } = await t.ok(FilteredDashboardDocument, {
        programId: 'HA',
        from: iso(FROM),
        to: iso(TO),
        filter,
      });
      const expected = naive(recorded, keep);
      expect(dashboard.resolvedCases).toBe(expected.resolvedCases);
      expectClose(dashboard.avgResolutionTime, expected.avgResolutionTime);
      expect(dashboard.filter).toEqual([{ key: filter[0].key, values: [...filter[0].values].sort() }]);
      // Days cut in New York, across the start of daylight saving time (2026-03-08).
      expect(dashboard.series).toHaveLength(11);
      for (const [i, point] of dashboard.series.entries()) {
        const start = Math.max(FROM, Date.parse(point.start));
        const next = dashboard.series[i + 1];
        const bucket = naive(recorded, keep, start, next ? Date.parse(next.start) : TO);
        expect(point.resolvedCases).toBe(bucket.resolvedCases);
        expectClose(point.avgResolutionTime, bucket.avgResolutionTime);
      }
    }
  });

  it('hold together when several are given (a combination read from raw events), and narrow a key given twice', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    const { dashboard } = await t.ok(FilteredDashboardDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      filter: [
        { key: 'office', values: ['North', 'East'] },
        { key: 'channel', values: ['phone'] },
        { key: 'office', values: ['East', 'South'] },
      ],
    });
    const expected = naive(
      recorded,
      (r) => r.programId === 'HA' && r.attributes.office === 'East' && r.attributes.channel === 'phone',
    );
    expect(expected.resolvedCases).toBeGreaterThan(0);
    expect(dashboard.resolvedCases).toBe(expected.resolvedCases);
    expectClose(dashboard.avgResolutionTime, expected.avgResolutionTime);
    expect(dashboard.filter).toEqual([
      { key: 'channel', values: ['phone'] },
      { key: 'office', values: ['East'] },
    ]);
  });

  it('span every visible program on an all-programs dashboard, and only those of a limited key', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    const filter = [{ key: 'office', values: ['North'] }];
    const all = await t.ok(FilteredDashboardDocument, { from: iso(FROM), to: iso(TO), filter });
    expect(all.dashboard.resolvedCases).toBe(naive(recorded, (r) => r.attributes.office === 'North').resolvedCases);
    const viewer = await t.key('VIEWER', ['HB']);
    const limited = await t.ok(FilteredDashboardDocument, { from: iso(FROM), to: iso(TO), filter }, viewer);
    expect(limited.dashboard.resolvedCases).toBe(
      naive(recorded, (r) => r.programId === 'HB' && r.attributes.office === 'North').resolvedCases,
    );
    // channel is declared by HA only, which this key may not see.
    expectBadInput(
      await t.run(FilteredDashboardDocument, { filter: [{ key: 'channel', values: ['web'] }] }, viewer),
      'filter[0].key',
      '"channel" is not a dimension of any program this key may see',
    );
  });

  it('follow a retraction and a late event', async () => {
    const t = await testApp({ now: () => NOW });
    await setup(t);
    const filter = [{ key: 'office', values: ['East'] }];
    const before = (await t.ok(FilteredDashboardDocument, { programId: 'HA', from: iso(FROM), to: iso(TO), filter }))
      .dashboard;
    const late = await t.ok(RecordAttributedDocument, {
      input: {
        programId: 'HA',
        caseId: 'late',
        days: 100,
        occurredAt: iso(FROM + 3 * DAY + 5_000),
        attributes: [{ key: 'office', value: 'East' }],
      },
    });
    const after = (await t.ok(FilteredDashboardDocument, { programId: 'HA', from: iso(FROM), to: iso(TO), filter }))
      .dashboard;
    expect(after.resolvedCases).toBe(before.resolvedCases + 1);
    await t.ok(RetractEventDocument, { id: late.recordResolutionTime.event.id });
    const back = (await t.ok(FilteredDashboardDocument, { programId: 'HA', from: iso(FROM), to: iso(TO), filter }))
      .dashboard;
    expect(back.resolvedCases).toBe(before.resolvedCases);
    expect(back.avgResolutionTime).toBe(before.avgResolutionTime);
  });

  const badFilters: [string, { key: string; values: string[] }[], string, string][] = [
    ['a key no program declares', [{ key: 'region', values: ['x'] }], 'filter[0].key', '"region" is not a dimension'],
    ['a malformed key', [{ key: 'Region', values: ['x'] }], 'filter[0].key', 'must be 1 to 32'],
    ['no values', [{ key: 'office', values: [] }], 'filter[0].values', 'must hold 1 to 1000 values'],
    ['an empty value', [{ key: 'office', values: ['a', ''] }], 'filter[0].values[1]', 'must be 1 to 128'],
  ];
  for (const [name, filter, field, rule] of badFilters) {
    it(`refuse ${name} with BAD_USER_INPUT naming ${field}`, async () => {
      const t = await testApp({ now: () => NOW });
      await setup(t);
      expectBadInput(await t.run(FilteredDashboardDocument, { programId: 'HA', filter }), field, rule);
    });
  }
});

describe('breakdowns', () => {
  it('give one row per value and one for events without the attribute, ranked by a KPI, each with its series', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    const { dashboard } = await t.ok(BreakdownDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      by: 'office',
      orderBy: 'AVG_RESOLUTION_TIME',
    });
    const rows = dashboard.breakdown;
    const expectedRows = [...OFFICES, null].map((value) => ({
      value,
      ...naive(recorded, (r) => r.programId === 'HA' && (r.attributes.office ?? null) === value),
    }));
    expectedRows.sort((a, b) => (b.avgResolutionTime ?? 0) - (a.avgResolutionTime ?? 0));
    expect(rows.map((r) => r.value)).toEqual(expectedRows.map((r) => r.value));
    expect(rows[0].value).toBe('South');
    for (const [i, row] of rows.entries()) {
      expect(row.resolvedCases).toBe(expectedRows[i].resolvedCases);
      expectClose(row.avgResolutionTime, expectedRows[i].avgResolutionTime);
      expect(row.series).toHaveLength(11);
      expect(row.series.reduce((n, p) => n + p.resolvedCases, 0)).toBe(row.resolvedCases);
    }
    expect(rows.reduce((n, r) => n + r.resolvedCases, 0)).toBe(dashboard.resolvedCases);

    const ascending = await t.ok(BreakdownTotalsDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      by: 'office',
      orderBy: 'AVG_RESOLUTION_TIME',
      limit: 2,
    });
    expect(ascending.dashboard.breakdown.map((r) => r.value)).toEqual(rows.slice(0, 2).map((r) => r.value));
    const byValue = await t.ok(BreakdownTotalsDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      by: 'office',
    });
    expect(byValue.dashboard.breakdown.map((r) => r.value)).toEqual(['East', 'North', 'South', null]);
  });

  it('apply the filter: on the same dimension from rollups, on another as a combination', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    for (const filter of [[{ key: 'office', values: ['North', 'South'] }], [{ key: 'channel', values: ['web'] }]]) {
      const { dashboard } = await t.ok(BreakdownDocument, {
        programId: 'HA',
        from: iso(FROM),
        to: iso(TO),
        by: 'office',
        filter,
      });
      const f = filter[0];
      const expected = [...OFFICES, null]
        .map((value) => ({
          value,
          ...naive(
            recorded,
            (r) =>
              r.programId === 'HA' && f.values.includes(r.attributes[f.key]) && (r.attributes.office ?? null) === value,
          ),
        }))
        .filter((r) => r.resolvedCases > 0)
        .sort((a, b) => (a.value === null ? 1 : b.value === null ? -1 : a.value < b.value ? -1 : 1));
      expect(dashboard.breakdown.map((r) => [r.value, r.resolvedCases])).toEqual(
        expected.map((r) => [r.value, r.resolvedCases]),
      );
      for (const [i, row] of dashboard.breakdown.entries())
        expectClose(row.avgResolutionTime, expected[i].avgResolutionTime);
    }
  });

  it('rank programs by "program"; a viewer limited to one program gets only its row', async () => {
    const t = await testApp({ now: () => NOW });
    const recorded = await setup(t);
    const all = await t.ok(BreakdownTotalsDocument, {
      from: iso(FROM),
      to: iso(TO),
      by: 'program',
      orderBy: 'AVG_RESOLUTION_TIME',
    });
    expect(all.dashboard.breakdown.map((r) => r.value).sort()).toEqual(['HA', 'HB']);
    for (const row of all.dashboard.breakdown) {
      expect(row.resolvedCases).toBe(naive(recorded, (r) => r.programId === row.value).resolvedCases);
    }
    const viewer = await t.key('VIEWER', ['HA']);
    const limited = await t.ok(BreakdownTotalsDocument, { from: iso(FROM), to: iso(TO), by: 'program' }, viewer);
    expect(limited.dashboard.breakdown.map((r) => r.value)).toEqual(['HA']);
    expect(limited.dashboard.breakdown[0].resolvedCases).toBe(
      naive(recorded, (r) => r.programId === 'HA').resolvedCases,
    );
  });

  it('refuse a by that is not a dimension, and a limit out of range', async () => {
    const t = await testApp({ now: () => NOW });
    await setup(t);
    expectBadInput(
      await t.run(BreakdownTotalsDocument, { programId: 'HB', by: 'channel' }),
      'by',
      'must be "program" or a dimension of program "HB"',
    );
    for (const limit of [0, 1001])
      expectBadInput(
        await t.run(BreakdownTotalsDocument, { programId: 'HA', by: 'office', limit }),
        'limit',
        'must be between 1 and 1000',
      );
  });

  it('count rows × buckets in the cost limit', async () => {
    const t = await testApp({ now: () => NOW, env: { LIMIT_COST: '20000' } });
    await setup(t);
    const small = await t.run(BreakdownDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      by: 'office',
      limit: 5,
    });
    expect(small.errors).toBeUndefined();
    const large = await t.run(BreakdownDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(FROM + 365 * DAY),
      by: 'office',
      limit: 1000,
    });
    expect(onlyError(large).extensions?.code).toBe('LIMIT_EXCEEDED');
  });

  it('update live after a record, when a subscription selects them', async () => {
    const t = await testApp({ env: { LIVE_THROTTLE_MS: '0' } });
    await setup(t);
    const url = await listen(t);
    const live = connect(url, await t.key('VIEWER')).subscribe(LiveBreakdownDocument, {
      programId: 'HA',
      by: 'office',
      filter: [{ key: 'channel', values: ['web'] }],
    });
    const first = await live.next();
    expect(first.errors).toBeUndefined();
    const west = () => first.data?.dashboardUpdated.breakdown.find((r) => r.value === 'West');
    expect(west()).toBeUndefined();
    await t.ok(RecordAttributedDocument, {
      input: {
        programId: 'HA',
        caseId: 'w',
        days: 9,
        attributes: [
          { key: 'office', value: 'West' },
          { key: 'channel', value: 'web' },
        ],
      },
    });
    const next = await live.next();
    expect(next.data?.dashboardUpdated.breakdown.find((r) => r.value === 'West')).toEqual({
      value: 'West',
      resolvedCases: 1,
      avgResolutionTime: 9,
    });
  });
});
