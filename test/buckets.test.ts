/**
 * The bucket rule (README, "Dashboards"): days and longer start at the first instant of their local
 * date, hours wherever the clock reads hh:00, in zones whose midnight repeats or is skipped and whose
 * clocks shift by 30 or 45 minutes; and no answer depends on what was asked before.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { App } from '../src/app.js';
import { bucketStart, bucketsCovering, nextBucketStart, type Granularity } from '../src/kpis/time.js';
import { fiscalInterval, fiscalPeriodOf } from '../src/targets/fiscal-periods.js';
import {
  CreateProgramDocument,
  DashboardSeriesDocument,
  RecordEventsDocument,
  type EventInput,
} from './generated/operations.js';
import { ADMIN_KEY, freshDatabaseUrl, operationsOn } from './helpers/app.js';
import { startServerProcess } from './helpers/server-process.js';

const at = (iso: string) => Date.parse(iso);
const starts = (from: string, to: string, granularity: Granularity, zone: string) =>
  bucketsCovering(at(from), at(to), granularity, zone, 2_000).map((b) => new Date(b.start).toISOString());

describe('bucket boundaries', () => {
  it('start a Havana day and month at the first of the two midnights when DST ends', () => {
    // 2026-11-01: 01:00 CDT goes back to 00:00 CST, so local midnight is at 04:00Z and again at 05:00Z.
    expect(starts('2026-10-01T04:00Z', '2026-12-01T05:00Z', 'MONTH', 'America/Havana')).toEqual([
      '2026-10-01T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
    ]);
    expect(starts('2026-10-31T12:00Z', '2026-11-02T12:00Z', 'DAY', 'America/Havana')).toEqual([
      '2026-10-31T04:00:00.000Z',
      '2026-11-01T04:00:00.000Z',
      '2026-11-02T05:00:00.000Z',
    ]);
    // The second midnight is inside the day that began at the first.
    expect(bucketStart(at('2026-11-01T05:00Z'), 'DAY', 'America/Havana')).toBe(at('2026-11-01T04:00Z'));
    expect(bucketStart(at('2026-11-01T04:59:59.999Z'), 'WEEK', 'America/Havana')).toBe(at('2026-10-26T04:00Z'));
  });

  it('start a day at the first instant that exists when midnight is skipped, and skip a date that never was', () => {
    // Santiago, 2024-09-08: 00:00 -04 jumps to 01:00 -03.
    expect(bucketStart(at('2024-09-08T12:00Z'), 'DAY', 'America/Santiago')).toBe(at('2024-09-08T04:00Z'));
    // Apia, 2011: 29 December at 24:00 -10 became 31 December at 00:00 +14.
    expect(starts('2011-12-29T12:00Z', '2011-12-31T12:00Z', 'DAY', 'Pacific/Apia')).toEqual([
      '2011-12-29T10:00:00.000Z',
      '2011-12-30T10:00:00.000Z',
      '2011-12-31T10:00:00.000Z',
    ]);
    expect(nextBucketStart(at('2011-12-29T10:00Z'), 'DAY', 'Pacific/Apia')).toBe(at('2011-12-30T10:00Z'));
    expect(bucketStart(at('2011-12-30T10:00Z'), 'MONTH', 'Pacific/Apia')).toBe(at('2011-12-01T10:00Z'));
  });

  it('make one Lord Howe hour 90 minutes long at a 30-minute shift, never moving the rest to hh:30', () => {
    // 2026-10-04 02:00 +10:30 jumps to 02:30 +11 (15:30Z): the 01:00 hour runs to 03:00.
    expect(starts('2026-10-03T14:30Z', '2026-10-03T18:00Z', 'HOUR', 'Australia/Lord_Howe')).toEqual([
      '2026-10-03T14:30:00.000Z',
      '2026-10-03T16:00:00.000Z',
      '2026-10-03T17:00:00.000Z',
    ]);
    // 2027-04-04 02:00 +11 goes back to 01:30 +10:30 (15:00Z): the 01:00 hour takes the repeated half hour.
    expect(starts('2027-04-03T13:00Z', '2027-04-03T17:00Z', 'HOUR', 'Australia/Lord_Howe')).toEqual([
      '2027-04-03T13:00:00.000Z',
      '2027-04-03T14:00:00.000Z',
      '2027-04-03T15:30:00.000Z',
      '2027-04-03T16:30:00.000Z',
    ]);
  });

  it('keep a repeated hour a bucket of its own, at 45-minute offsets too', () => {
    // Chatham, 2026-04-05: 03:45 +13:45 goes back to 02:45 +12:45 (14:00Z); 03:00 comes twice.
    expect(starts('2026-04-05T12:15Z', '2026-04-05T15:15Z', 'HOUR', 'Pacific/Chatham')).toEqual([
      '2026-04-05T12:15:00.000Z',
      '2026-04-05T13:15:00.000Z',
      '2026-04-05T14:15:00.000Z',
    ]);
    // New York, 2026-11-01: 01:00 comes twice, an hour apart.
    expect(starts('2026-11-01T05:00Z', '2026-11-01T07:00Z', 'HOUR', 'America/New_York')).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
    ]);
  });

  it('count the 2,000-bucket limit with the same boundaries', () => {
    // 2,000 Lord Howe hours from 14:30Z include the 90-minute one, so they end 30 minutes later than 2,000 h.
    const from = at('2026-10-03T14:30Z');
    const buckets = bucketsCovering(from, from + 2_000 * 3_600_000 + 30 * 60_000, 'HOUR', 'Australia/Lord_Howe', 2_000);
    expect(buckets).toHaveLength(2_000);
    expect(() =>
      bucketsCovering(from, from + 2_000 * 3_600_000 + 30 * 60_000 + 1, 'HOUR', 'Australia/Lord_Howe', 2_000),
    ).toThrow(/2000 buckets/);
  });

  it('start fiscal quarters where QUARTER buckets start, and place each instant in the quarter that holds it', () => {
    // Gaza ended DST at 24:00 on 30 September 2004, back to 23:00: FY2005 starts at the midnight an hour later.
    const zones = ['America/New_York', 'America/Havana', 'America/Santiago', 'Asia/Gaza', 'Australia/Lord_Howe', 'UTC'];
    for (const zone of zones)
      for (let fiscalYear = 1972; fiscalYear <= 2040; fiscalYear++)
        for (let quarter = 1; quarter <= 4; quarter++) {
          const { start, end } = fiscalInterval({ fiscalYear, quarter }, zone);
          expect([bucketStart(start, 'QUARTER', zone), nextBucketStart(start, 'QUARTER', zone)]).toEqual([start, end]);
          expect(fiscalPeriodOf(start, zone)).toEqual({ fiscalYear, quarter });
          expect(fiscalPeriodOf(end - 1, zone)).toEqual({ fiscalYear, quarter });
        }
  });
});

/** A server process of its own: its calendar caches start empty. */
async function freshServer() {
  const server = await startServerProcess({ DATABASE_URL: freshDatabaseUrl(), ADMIN_API_KEY: ADMIN_KEY });
  onTestFinished(() => server.stop());
  const t = operationsOn({ fetch: (_url: string, init?: RequestInit) => fetch(server.url, init) } as App);
  for (const [id, timezone] of [
    ['CU', 'America/Havana'],
    ['LH', 'Australia/Lord_Howe'],
  ])
    await t.ok(CreateProgramDocument, { input: { id, name: id, timezone } });
  return t;
}

let seq = 0;
const days = (programId: string, value: number, occurredAt: string): EventInput => ({
  kind: 'RESOLUTION_TIME',
  programId,
  caseId: `case-${++seq}`,
  value,
  occurredAt,
});

/** The repros, each with its true answer. */
const QUESTIONS = [
  { programId: 'CU', from: '2026-10-01T04:00:00.000Z', to: '2026-12-01T05:00:00.000Z', granularity: 'MONTH' },
  { programId: 'CU', from: '2026-11-01T05:00:00.000Z', to: '2026-11-02T05:00:00.000Z', granularity: 'DAY' },
  { programId: 'CU', from: '2026-11-01T04:00:00.000Z', to: '2026-11-01T05:00:00.000Z', granularity: 'DAY' },
  { programId: 'CU', from: '2026-10-25T00:00:00.000Z', to: '2026-11-10T00:00:00.000Z', granularity: 'DAY' },
  { programId: 'LH', from: '2026-10-03T14:30:00.000Z', to: '2026-10-03T18:00:00.000Z', granularity: 'HOUR' },
] as const;
/** Other requests, far from and near to the questions, that once seeded the caches differently. */
const OTHERS = [
  { programId: 'CU', from: '2023-11-01T00:00:00.000Z', to: '2023-12-31T00:00:00.000Z', granularity: 'DAY' },
  { programId: 'CU', from: '2026-11-01T05:30:00.000Z', to: '2026-11-01T09:00:00.000Z', granularity: 'HOUR' },
  { programId: 'CU', from: '2020-01-01T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z', granularity: 'YEAR' },
  { programId: 'LH', from: '2026-10-03T15:45:00.000Z', to: '2026-10-05T00:00:00.000Z', granularity: 'HOUR' },
  { programId: 'LH', from: '2026-01-01T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', granularity: 'MONTH' },
] as const;

type Server = Awaited<ReturnType<typeof freshServer>>;
async function ask(t: Server, q: (typeof QUESTIONS)[number] | (typeof OTHERS)[number]) {
  const { dashboard } = await t.ok(DashboardSeriesDocument, { ...q });
  return {
    resolvedCases: dashboard.resolvedCases,
    avg: dashboard.avgResolutionTime,
    series: dashboard.series.map((p) => [p.start, p.resolvedCases, p.avgResolutionTime]),
  };
}

describe('bucketed answers', () => {
  it('are the true ones, and the same before and after other requests and in another order on a fresh server', {
    timeout: 120_000,
  }, async () => {
    const first = await freshServer();
    await first.ok(RecordEventsDocument, {
      events: [
        days('CU', 5, '2023-12-01T12:00:00.000Z'),
        days('CU', 1, '2026-10-31T12:00:00.000Z'),
        days('CU', 100, '2026-11-01T10:00:00.000Z'),
        days('CU', 7, '2026-11-29T18:00:00.000Z'),
        days('LH', 2, '2026-10-03T15:45:00.000Z'),
      ],
    });
    const answers = [];
    for (const q of QUESTIONS) answers.push(await ask(first, q));

    const [month, day, edge, days25, lordHowe] = answers;
    expect(month.series.map((p) => p[0])).toEqual(['2026-10-01T04:00:00.000Z', '2026-11-01T04:00:00.000Z']);
    expect(month.series.map((p) => p[1])).toEqual([1, 2]);
    expect(day).toMatchObject({ resolvedCases: 1, avg: 100 });
    // One point: the day that began at the first midnight (a point's start is its bucket's own).
    expect(day.series).toEqual([['2026-11-01T04:00:00.000Z', 1, 100]]);
    expect(edge).toMatchObject({ resolvedCases: 0, avg: null });
    const nov1 = days25.series.find((p) => p[0] === '2026-11-01T04:00:00.000Z')!;
    expect(nov1.slice(1)).toEqual([1, 100]);
    expect(days25.series.map((p) => p[0])).toContain('2026-11-02T05:00:00.000Z');
    // 24 October (from 20:00 local) to 9 November: 17 days, none of them doubled.
    expect(days25.series).toHaveLength(17);
    expect(lordHowe.series).toEqual([
      ['2026-10-03T14:30:00.000Z', 1, 2],
      ['2026-10-03T16:00:00.000Z', 0, null],
      ['2026-10-03T17:00:00.000Z', 0, null],
    ]);

    for (const q of OTHERS) await ask(first, q);
    for (const [i, q] of QUESTIONS.entries())
      expect(await ask(first, q), `again: ${JSON.stringify(q)}`).toEqual(answers[i]);

    // A fresh server, records in another order, the other requests first, the questions backwards.
    const second = await freshServer();
    for (const q of [...OTHERS].reverse()) await ask(second, q);
    await second.ok(RecordEventsDocument, {
      events: [
        days('LH', 2, '2026-10-03T15:45:00.000Z'),
        days('CU', 7, '2026-11-29T18:00:00.000Z'),
        days('CU', 100, '2026-11-01T10:00:00.000Z'),
        days('CU', 1, '2026-10-31T12:00:00.000Z'),
        days('CU', 5, '2023-12-01T12:00:00.000Z'),
      ],
    });
    for (const [i, q] of [...QUESTIONS.entries()].reverse())
      expect(await ask(second, q), `fresh: ${JSON.stringify(q)}`).toEqual(answers[i]);
  });
});
