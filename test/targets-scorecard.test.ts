/** Scorecards on known data: each status and trend in both KPI directions, running periods, previous, fiscal periods. */
import { describe, expect, it } from 'vitest';
import {
  FiscalScorecardDocument,
  RecordEventsDocument,
  ScorecardDocument,
  SetTargetDocument,
  type EventInput,
  type Kpi,
  type ScorecardFieldsFragment,
} from './generated/operations.js';
import { testApp, type TestApp } from './helpers/app.js';

const MARCH_15 = Date.parse('2026-03-15T12:00:00.000Z');
/** February 2026 (ended on March 15) and the 28 days before it. */
const FEB = { from: '2026-02-01T00:00:00.000Z', to: '2026-03-01T00:00:00.000Z' };
const BEFORE_FEB = { from: '2026-01-04T00:00:00.000Z', to: FEB.from };

let seq = 0;
const event = (programId: string, kind: EventInput['kind'], value: number | null, occurredAt: string): EventInput => ({
  kind,
  programId,
  caseId: `case-${++seq}`,
  value,
  occurredAt,
});
const days = (p: string, v: number, at: string) => event(p, 'RESOLUTION_TIME', v, at);
const score = (p: string, v: number, at: string) => event(p, 'SATISFACTION', v, at);
const conflict = (p: string, at: string) => event(p, 'CONFLICT', null, at);

async function record(t: TestApp, ...events: EventInput[]) {
  await t.ok(RecordEventsDocument, { events });
}

const row = (card: ScorecardFieldsFragment, kpi: Kpi) => card.rows.find((r) => r.kpi === kpi)!;

async function febScorecard(t: TestApp, programId = 'HA') {
  return (await t.ok(ScorecardDocument, { programId, ...FEB })).scorecard;
}

async function setTarget(t: TestApp, kpi: Kpi, value: number, period = FEB, programId = 'HA') {
  await t.ok(SetTargetDocument, { input: { programId, kpi, value, ...period } });
}

describe('scorecard', () => {
  it("has one row per KPI in the enum's order, NO_TARGET where no target is set", async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(t, days('HA', 4, '2026-02-10T00:00:00Z'));
    const card = await febScorecard(t);
    expect(card.rows.map((r) => r.kpi)).toEqual([
      'AVG_RESOLUTION_TIME',
      'MEDIAN_RESOLUTION_TIME',
      'P90_RESOLUTION_TIME',
      'AVG_SATISFACTION',
      'CSAT',
      'TOTAL_CONFLICTS',
      'CONFLICT_RATE',
      'WITHIN_STANDARD',
    ]);
    expect(card.rows.every((r) => r.status === 'NO_TARGET' && r.target === null)).toBe(true);
    expect(card).toMatchObject({ programId: 'HA', from: FEB.from, to: FEB.to, running: false });
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 4, previous: null, trend: 'NO_DATA' });
  });

  it('judges an ended lower-is-better KPI MET below or at its target and NOT_MET above it', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(
      t,
      days('HA', 3, '2026-02-10T00:00:00Z'),
      days('HA', 5, '2026-02-20T00:00:00Z'),
      conflict('HA', '2026-02-11T00:00:00Z'),
    );
    const cases: [Kpi, number, string][] = [
      ['AVG_RESOLUTION_TIME', 5, 'MET'],
      ['AVG_RESOLUTION_TIME', 4, 'MET'], // equal meets
      ['AVG_RESOLUTION_TIME', 3.5, 'NOT_MET'],
      ['TOTAL_CONFLICTS', 1, 'MET'],
      ['TOTAL_CONFLICTS', 0, 'NOT_MET'],
      ['CONFLICT_RATE', 50, 'MET'],
      ['CONFLICT_RATE', 49, 'NOT_MET'],
    ];
    for (const [kpi, target, status] of cases) {
      await setTarget(t, kpi, target);
      expect(row(await febScorecard(t), kpi), `${kpi} target ${target}`).toMatchObject({ target, status });
    }
    expect(row(await febScorecard(t), 'AVG_RESOLUTION_TIME').actual).toBe(4);
  });

  it('judges an ended higher-is-better KPI MET above or at its target and NOT_MET below it', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(t, score('HA', 3, '2026-02-10T00:00:00Z'), score('HA', 4, '2026-02-20T00:00:00Z'));
    const cases: [Kpi, number, string][] = [
      ['AVG_SATISFACTION', 3, 'MET'],
      ['AVG_SATISFACTION', 3.5, 'MET'], // equal meets
      ['AVG_SATISFACTION', 3.6, 'NOT_MET'],
      ['CSAT', 50, 'MET'],
      ['CSAT', 75, 'NOT_MET'],
    ];
    for (const [kpi, target, status] of cases) {
      await setTarget(t, kpi, target);
      expect(row(await febScorecard(t), kpi), `${kpi} target ${target}`).toMatchObject({ target, status });
    }
  });

  it('says NO_DATA for a target whose KPI has no data in the period', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(t, days('HA', 2, '2026-02-10T00:00:00Z'));
    await setTarget(t, 'AVG_SATISFACTION', 4);
    await setTarget(t, 'TOTAL_CONFLICTS', 0);
    const card = await febScorecard(t);
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({
      target: 4,
      actual: null,
      status: 'NO_DATA',
      trend: 'NO_DATA',
    });
    // Counts are data once the program reported anything: zero conflicts meets a target of zero.
    expect(row(card, 'TOTAL_CONFLICTS')).toMatchObject({ actual: 0, status: 'MET' });

    const empty = (
      await t.ok(ScorecardDocument, { programId: 'HA', from: '2025-02-01T00:00:00Z', to: '2025-03-01T00:00:00Z' })
    ).scorecard;
    expect(empty.rows.every((r) => r.actual === null && r.trend === 'NO_DATA')).toBe(true);
  });

  it('trends IMPROVING when a lower-is-better KPI falls and a higher-is-better one rises', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(
      t,
      days('HA', 6, '2026-01-10T00:00:00Z'),
      score('HA', 3, '2026-01-10T00:00:00Z'),
      conflict('HA', '2026-01-11T00:00:00Z'),
      conflict('HA', '2026-01-12T00:00:00Z'),
      days('HA', 4, '2026-02-10T00:00:00Z'),
      score('HA', 5, '2026-02-10T00:00:00Z'),
      conflict('HA', '2026-02-11T00:00:00Z'),
    );
    const card = await febScorecard(t);
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 4, previous: 6, trend: 'IMPROVING' });
    expect(row(card, 'TOTAL_CONFLICTS')).toMatchObject({ actual: 1, previous: 2, trend: 'IMPROVING' });
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({ actual: 5, previous: 3, trend: 'IMPROVING' });
    expect(row(card, 'CSAT')).toMatchObject({ actual: 100, previous: 0, trend: 'IMPROVING' });
  });

  it('trends WORSENING when a lower-is-better KPI rises and a higher-is-better one falls', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(
      t,
      days('HA', 4, '2026-01-10T00:00:00Z'),
      score('HA', 5, '2026-01-10T00:00:00Z'),
      days('HA', 6, '2026-02-10T00:00:00Z'),
      score('HA', 3, '2026-02-10T00:00:00Z'),
      conflict('HA', '2026-02-11T00:00:00Z'),
    );
    const card = await febScorecard(t);
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 6, previous: 4, trend: 'WORSENING' });
    expect(row(card, 'TOTAL_CONFLICTS')).toMatchObject({ actual: 1, previous: 0, trend: 'WORSENING' });
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({ actual: 3, previous: 5, trend: 'WORSENING' });
    expect(row(card, 'CSAT')).toMatchObject({ actual: 0, previous: 100, trend: 'WORSENING' });
  });

  it('trends STEADY when actual equals previous, in either direction', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(
      t,
      days('HA', 1, '2026-01-10T00:00:00Z'),
      days('HA', 3, '2026-01-11T00:00:00Z'),
      score('HA', 4, '2026-01-10T00:00:00Z'),
      days('HA', 2, '2026-02-10T00:00:00Z'),
      score('HA', 4, '2026-02-10T00:00:00Z'),
    );
    const card = await febScorecard(t);
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 2, previous: 2, trend: 'STEADY' });
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({ actual: 4, previous: 4, trend: 'STEADY' });
  });

  it('takes previous over the period of equal length that ends at from, edges included and excluded', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    await record(
      t,
      days('HA', 100, '2026-01-03T23:59:59.999Z'), // just before the previous period
      days('HA', 2, BEFORE_FEB.from), // first instant of the previous period
      days('HA', 4, '2026-01-31T23:59:59.999Z'), // last instant of the previous period
      days('HA', 10, FEB.from), // first instant of the period itself
      days('HA', 100, FEB.to), // the period's end is exclusive
    );
    const card = await febScorecard(t);
    expect(card).toMatchObject({ previousFrom: BEFORE_FEB.from, previousTo: BEFORE_FEB.to });
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 10, previous: 3 });
  });

  it('judges a running period ON_TRACK, then AT_RISK as data arrives, then NOT_MET once it ended', async () => {
    let now = MARCH_15;
    const t = await testApp({ now: () => now });
    await t.program('HA');
    const MARCH = { from: '2026-03-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };
    await setTarget(t, 'AVG_RESOLUTION_TIME', 5, MARCH);
    await setTarget(t, 'AVG_SATISFACTION', 4, MARCH);
    const march = async () => (await t.ok(ScorecardDocument, { programId: 'HA', ...MARCH })).scorecard;

    expect(row(await march(), 'AVG_RESOLUTION_TIME')).toMatchObject({ status: 'NO_DATA' });
    await record(t, days('HA', 3, '2026-03-02T00:00:00Z'), score('HA', 5, '2026-03-02T00:00:00Z'));
    let card = await march();
    expect(card.running).toBe(true);
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 3, status: 'ON_TRACK' });
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({ actual: 5, status: 'ON_TRACK' });

    await record(t, days('HA', 9, '2026-03-14T00:00:00Z'), score('HA', 2, '2026-03-14T00:00:00Z'));
    card = await march();
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 6, status: 'AT_RISK' });
    expect(row(card, 'AVG_SATISFACTION')).toMatchObject({ actual: 3.5, status: 'AT_RISK' });

    now = Date.parse(MARCH.to); // to <= now: the period has ended
    card = await march();
    expect(card.running).toBe(false);
    expect(row(card, 'AVG_RESOLUTION_TIME').status).toBe('NOT_MET');
  });

  it('refuses from at or after to, and an unknown program', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('HA');
    const same = await t.run(ScorecardDocument, { programId: 'HA', from: FEB.from, to: FEB.from });
    expect(same.errors?.[0]).toMatchObject({
      message: 'from must be before to',
      extensions: { code: 'BAD_USER_INPUT', field: 'from' },
    });
    const missing = await t.run(ScorecardDocument, { programId: 'NOPE', ...FEB });
    expect(missing.errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('fiscal scorecard', () => {
  // America/New_York: FY2026 runs from 2025-10-01 00:00 EDT (04:00Z) to 2026-10-01 00:00 EDT.
  it('cuts a federal fiscal year at local midnight on October 1 in the program zone', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('NY', 'America/New_York');
    await record(
      t,
      days('NY', 8, '2025-10-01T03:59:59.999Z'), // Sep 30, 23:59 local: FY2025
      days('NY', 2, '2025-10-01T04:00:00.000Z'), // Oct 1, 00:00 local: FY2026
      days('NY', 4, '2026-03-01T12:00:00.000Z'),
      days('NY', 6, '2024-10-01T04:00:00.000Z'), // first instant of FY2025
    );
    await t.ok(SetTargetDocument, {
      input: {
        programId: 'NY',
        kpi: 'AVG_RESOLUTION_TIME',
        from: '2025-10-01T00:00:00-04:00',
        to: '2026-10-01T00:00:00-04:00',
        value: 5,
      },
    });
    const card = (await t.ok(FiscalScorecardDocument, { programId: 'NY', fiscalYear: 2026 })).fiscalScorecard;
    // Running: previous is the span as long as the part elapsed, ending at October 1 (period to date).
    const from = Date.parse('2025-10-01T04:00:00.000Z');
    expect(card).toMatchObject({
      from: '2025-10-01T04:00:00.000Z',
      to: '2026-10-01T04:00:00.000Z',
      previousFrom: new Date(from - (MARCH_15 - from)).toISOString(),
      previousTo: '2025-10-01T04:00:00.000Z',
      running: true,
    });
    expect(row(card, 'AVG_RESOLUTION_TIME')).toMatchObject({
      target: 5,
      actual: 3,
      previous: 8, // the 6 at the start of FY2025 lies before the elapsed span
      status: 'ON_TRACK',
      trend: 'IMPROVING',
    });
  });

  it('cuts fiscal quarters across DST, and compares Q1 with the last quarter of the year before', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('NY', 'America/New_York');
    await record(
      t,
      days('NY', 1, '2026-01-01T04:59:59.999Z'), // Dec 31, 23:59 EST: Q1
      days('NY', 3, '2026-01-01T05:00:00.000Z'), // Jan 1, 00:00 EST: Q2
      days('NY', 9, '2025-09-30T12:00:00.000Z'), // FY2025 Q4
    );
    const q2 = (await t.ok(FiscalScorecardDocument, { programId: 'NY', fiscalYear: 2026, quarter: 2 })).fiscalScorecard;
    // Q2 starts in EST and ends in EDT; it is running, so previous is the elapsed span before it.
    const from = Date.parse('2026-01-01T05:00:00.000Z');
    expect(q2).toMatchObject({
      from: '2026-01-01T05:00:00.000Z',
      to: '2026-04-01T04:00:00.000Z',
      previousFrom: new Date(from - (MARCH_15 - from)).toISOString(),
    });
    expect(row(q2, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 3, previous: 1, trend: 'WORSENING' });

    const q1 = (await t.ok(FiscalScorecardDocument, { programId: 'NY', fiscalYear: 2026, quarter: 1 })).fiscalScorecard;
    expect(q1).toMatchObject({ from: '2025-10-01T04:00:00.000Z', to: '2026-01-01T05:00:00.000Z', running: false });
    expect(q1).toMatchObject({ previousFrom: '2025-07-01T04:00:00.000Z', previousTo: '2025-10-01T04:00:00.000Z' });
    expect(row(q1, 'AVG_RESOLUTION_TIME')).toMatchObject({ actual: 1, previous: 9, trend: 'IMPROVING' });
  });

  it('refuses a quarter outside 1..4 and an implausible fiscal year', async () => {
    const t = await testApp({ now: () => MARCH_15 });
    await t.program('NY', 'America/New_York');
    const quarter = await t.run(FiscalScorecardDocument, { programId: 'NY', fiscalYear: 2026, quarter: 5 });
    expect(quarter.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'quarter' } });
    const year = await t.run(FiscalScorecardDocument, { programId: 'NY', fiscalYear: 0 });
    expect(year.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'fiscalYear' } });
  });
});
