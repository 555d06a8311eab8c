/** Dashboards: ranges, scopes, percentiles, series buckets in time zones, and their errors. */
import { describe, expect, it } from 'vitest';
import {
  DashboardDocument,
  DashboardSeriesDocument,
  RecordEventsDocument,
  TwoDashboardsDocument,
  type EventInput,
} from './generated/operations.js';
import { onlyError, testApp } from './helpers/app.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');

const days = (programId: string, value: number, occurredAt: string): EventInput => ({
  kind: 'RESOLUTION_TIME',
  programId,
  caseId: `case-${value}-${occurredAt}`,
  value,
  occurredAt,
});

async function setup(...programs: [string, string?][]) {
  const t = await testApp({ now: () => NOW });
  for (const [id, zone] of programs) await t.program(id, zone);
  return t;
}

describe('dashboard', () => {
  it('counts an event exactly at from and not one exactly at to', async () => {
    const t = await setup(['HA']);
    await t.ok(RecordEventsDocument, {
      events: [
        days('HA', 1, '2026-03-01T00:00:00.000Z'),
        days('HA', 2, '2026-03-31T23:59:59.999Z'),
        days('HA', 100, '2026-04-01T00:00:00.000Z'),
        days('HA', 100, '2026-02-28T23:59:59.999Z'),
      ],
    });
    const { dashboard } = await t.ok(DashboardDocument, {
      programId: 'HA',
      from: '2026-03-01T00:00:00Z',
      to: '2026-04-01T00:00:00Z',
    });
    expect(dashboard).toMatchObject({
      resolvedCases: 2,
      avgResolutionTime: 1.5,
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-04-01T00:00:00.000Z',
    });
  });

  it('answers an open range with every event, and null KPIs (counts 0) without data', async () => {
    const t = await setup(['HA'], ['EMPTY']);
    await t.ok(RecordEventsDocument, {
      events: [days('HA', 3, '2020-01-01T00:00:00Z'), days('HA', 5, '2026-11-26T11:00:00Z')],
    });
    expect((await t.ok(DashboardDocument, { programId: 'HA' })).dashboard).toMatchObject({
      resolvedCases: 2,
      avgResolutionTime: 4,
    });
    expect((await t.ok(DashboardDocument, { programId: 'EMPTY' })).dashboard).toMatchObject({
      avgResolutionTime: null,
      medianResolutionTime: null,
      p90ResolutionTime: null,
      avgSatisfaction: null,
      csat: null,
      conflictRate: null,
      resolvedCases: 0,
      satisfactionResponses: 0,
      totalConflicts: 0,
    });
  });

  it('computes nearest-rank percentiles: 1..10 gives median 5 and p90 9', async () => {
    const t = await setup(['HA']);
    const events = Array.from({ length: 10 }, (_, i) => days('HA', i + 1, `2026-06-0${(i % 9) + 1}T12:00:00Z`));
    await t.ok(RecordEventsDocument, { events });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.medianResolutionTime).toBe(5);
    expect(dashboard.p90ResolutionTime).toBe(9);
    expect(dashboard.avgResolutionTime).toBe(5.5);
  });

  it('keeps percentiles within 1% for values that share no bin exactly', async () => {
    const t = await setup(['HA']);
    const values = Array.from({ length: 200 }, (_, i) => 0.5 + i * 0.731);
    await t.ok(RecordEventsDocument, {
      events: values.map((v, i) => ({ ...days('HA', v, '2026-06-01T12:00:00Z'), caseId: `c${i}` })),
    });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    const sorted = [...values].sort((a, b) => a - b);
    const nearestRank = (q: number) => sorted[Math.ceil(q * sorted.length) - 1];
    expect(Math.abs(dashboard.medianResolutionTime! / nearestRank(0.5) - 1)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(dashboard.p90ResolutionTime! / nearestRank(0.9) - 1)).toBeLessThanOrEqual(0.01);
  });

  it('computes satisfaction, CSAT, conflicts and conflict rate', async () => {
    const t = await setup(['HA']);
    const at = '2026-06-01T12:00:00Z';
    await t.ok(RecordEventsDocument, {
      events: [
        { kind: 'SATISFACTION', programId: 'HA', caseId: 'a', value: 5, occurredAt: at },
        { kind: 'SATISFACTION', programId: 'HA', caseId: 'b', value: 4, occurredAt: at },
        { kind: 'SATISFACTION', programId: 'HA', caseId: 'c', value: 3.9, occurredAt: at },
        { kind: 'SATISFACTION', programId: 'HA', caseId: 'd', value: 1, occurredAt: at },
        days('HA', 2, at),
        days('HA', 4, at),
        { kind: 'CONFLICT', programId: 'HA', caseId: 'e', occurredAt: at },
      ],
    });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard).toMatchObject({
      satisfactionResponses: 4,
      csat: 50,
      totalConflicts: 1,
      conflictRate: 50,
      resolvedCases: 2,
    });
    expect(dashboard.avgSatisfaction).toBeCloseTo(3.475, 10);
  });

  it('never mixes two programs', async () => {
    const t = await setup(['A'], ['B']);
    await t.ok(RecordEventsDocument, {
      events: [
        days('A', 2, '2026-06-01T00:00:00Z'),
        days('B', 10, '2026-06-01T00:00:00Z'),
        days('B', 20, '2026-06-02T00:00:00Z'),
      ],
    });
    const { a, b } = await t.ok(TwoDashboardsDocument, { a: 'A', b: 'B' });
    expect(a).toMatchObject({ programId: 'A', resolvedCases: 1, avgResolutionTime: 2 });
    expect(b).toMatchObject({ programId: 'B', resolvedCases: 2, avgResolutionTime: 15 });
    const all = await t.ok(DashboardDocument, {});
    expect(all.dashboard).toMatchObject({ programId: null, resolvedCases: 3 });
  });

  it("gives a scoped key's all-programs dashboard only its programs", async () => {
    const t = await setup(['A'], ['B'], ['C']);
    await t.ok(RecordEventsDocument, {
      events: [
        days('A', 1, '2026-06-01T00:00:00Z'),
        days('B', 3, '2026-06-01T00:00:00Z'),
        days('C', 100, '2026-06-01T00:00:00Z'),
      ],
    });
    const viewer = await t.key('VIEWER', ['A', 'B']);
    const { dashboard } = await t.ok(DashboardDocument, {}, viewer);
    expect(dashboard).toMatchObject({ resolvedCases: 2, avgResolutionTime: 2 });
    const error = onlyError(await t.run(DashboardDocument, { programId: 'C' }, viewer));
    expect(error.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses from after to, and a time zone that is not IANA', async () => {
    const t = await setup(['HA']);
    const reversed = onlyError(
      await t.run(DashboardDocument, { programId: 'HA', from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
    );
    expect(reversed).toMatchObject({ message: 'from must be before to', extensions: { code: 'BAD_USER_INPUT' } });
    const zone = onlyError(await t.run(DashboardSeriesDocument, { programId: 'HA', timezone: 'Mars/Olympus' }));
    expect(zone.extensions?.code).toBe('BAD_USER_INPUT');
    expect(zone.message).toMatch(/^timezone must be an IANA time zone/);
  });

  it('answers NOT_FOUND for an unknown program', async () => {
    const t = await setup(['HA']);
    expect(onlyError(await t.run(DashboardDocument, { programId: 'NOPE' })).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('dashboard series', () => {
  it("cuts DAY buckets in the program's zone across a daylight-saving change (America/New_York)", async () => {
    const t = await setup(['NY', 'America/New_York']);
    await t.ok(RecordEventsDocument, {
      events: [
        days('NY', 1, '2026-10-31T12:00:00Z'), // Oct 31, EDT
        days('NY', 2, '2026-11-01T04:30:00Z'), // Nov 1, 00:30 EDT
        days('NY', 4, '2026-11-02T04:30:00Z'), // Nov 1, 23:30 EST: the 25-hour day
        days('NY', 8, '2026-11-02T05:00:00Z'), // Nov 2, 00:00 EST
      ],
    });
    const { dashboard } = await t.ok(DashboardSeriesDocument, {
      programId: 'NY',
      from: '2026-10-31T04:00:00Z',
      to: '2026-11-03T05:00:00Z',
      granularity: 'DAY',
    });
    expect(dashboard.timezone).toBe('America/New_York');
    expect(dashboard.series.map((p) => [p.start, p.resolvedCases, p.avgResolutionTime])).toEqual([
      ['2026-10-31T04:00:00.000Z', 1, 1],
      ['2026-11-01T04:00:00.000Z', 2, 3],
      ['2026-11-02T05:00:00.000Z', 1, 8],
    ]);
  });

  it('includes empty buckets with null averages and zero counts, oldest first', async () => {
    const t = await setup(['HA']);
    await t.ok(RecordEventsDocument, {
      events: [days('HA', 2, '2026-06-01T10:00:00Z'), days('HA', 6, '2026-06-03T10:00:00Z')],
    });
    const { dashboard } = await t.ok(DashboardSeriesDocument, {
      programId: 'HA',
      from: '2026-06-01T00:00:00Z',
      to: '2026-06-04T00:00:00Z',
    });
    expect(dashboard.series.map((p) => [p.start, p.resolvedCases, p.avgResolutionTime, p.totalConflicts])).toEqual([
      ['2026-06-01T00:00:00.000Z', 1, 2, 0],
      ['2026-06-02T00:00:00.000Z', 0, null, 0],
      ['2026-06-03T00:00:00.000Z', 1, 6, 0],
    ]);
  });

  it('starts weeks on Monday and cuts months, quarters and years in the requested zone', async () => {
    const t = await setup(['HA']);
    await t.ok(RecordEventsDocument, { events: [days('HA', 1, '2026-06-03T10:00:00Z')] }); // a Wednesday
    const week = await t.ok(DashboardSeriesDocument, {
      programId: 'HA',
      from: '2026-06-03T00:00:00Z',
      to: '2026-06-04T00:00:00Z',
      granularity: 'WEEK',
    });
    expect(week.dashboard.series.map((p) => p.start)).toEqual(['2026-06-01T00:00:00.000Z']);
    const quarter = await t.ok(DashboardSeriesDocument, {
      programId: 'HA',
      from: '2026-01-01T00:00:00+09:00',
      to: '2027-01-01T00:00:00+09:00',
      granularity: 'QUARTER',
      timezone: 'Asia/Tokyo',
    });
    expect(quarter.dashboard.series.map((p) => [p.start, p.resolvedCases])).toEqual([
      ['2025-12-31T15:00:00.000Z', 0],
      ['2026-03-31T15:00:00.000Z', 1],
      ['2026-06-30T15:00:00.000Z', 0],
      ['2026-09-30T15:00:00.000Z', 0],
    ]);
    const year = await t.ok(DashboardSeriesDocument, {
      programId: 'HA',
      from: '2026-01-01T00:00:00Z',
      to: '2027-01-01T00:00:00Z',
      granularity: 'YEAR',
    });
    expect(year.dashboard.series.map((p) => [p.start, p.resolvedCases])).toEqual([['2026-01-01T00:00:00.000Z', 1]]);
  });

  it('uses UTC for all programs unless a timezone is given', async () => {
    const t = await setup(['NY', 'America/New_York']);
    await t.ok(RecordEventsDocument, { events: [days('NY', 1, '2026-06-01T02:00:00Z')] }); // May 31 in New York
    const all = await t.ok(DashboardSeriesDocument, { from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' });
    expect(all.dashboard.timezone).toBe('UTC');
    expect(all.dashboard.series.map((p) => [p.start, p.resolvedCases])).toEqual([['2026-06-01T00:00:00.000Z', 1]]);
  });

  it('starts an open series at the first event and ends it at the bucket holding now', async () => {
    const t = await setup(['HA']);
    await t.ok(RecordEventsDocument, { events: [days('HA', 1, '2026-11-20T08:00:00Z')] });
    const { dashboard } = await t.ok(DashboardSeriesDocument, { programId: 'HA', granularity: 'DAY' });
    expect(dashboard.series[0].start).toBe('2026-11-20T00:00:00.000Z');
    expect(dashboard.series.at(-1)!.start).toBe('2026-11-26T00:00:00.000Z');
    expect(dashboard.series).toHaveLength(7);
  });

  it('refuses more than 2,000 buckets with BAD_USER_INPUT, and accepts 2,000', async () => {
    const t = await setup(['HA']);
    const from = Date.parse('2026-01-01T00:00:00Z');
    const at = (hours: number) => new Date(from + hours * 3_600_000).toISOString();
    const ok = await t.ok(DashboardSeriesDocument, { programId: 'HA', from: at(0), to: at(2000), granularity: 'HOUR' });
    expect(ok.dashboard.series).toHaveLength(2000);
    const error = onlyError(
      await t.run(DashboardSeriesDocument, { programId: 'HA', from: at(0), to: at(2001), granularity: 'HOUR' }),
    );
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/2000 buckets/);
  });
});
