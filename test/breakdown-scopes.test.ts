/** Filters in targets, scorecards and alert rules, and rules grouped by a dimension (issue 18). */
import { describe, expect, it } from 'vitest';
import {
  CreateGroupedRuleDocument,
  CreateProgramWithDimensionsDocument,
  CreateWebhookDocument,
  DeleteAlertRuleDocument,
  FilteredActiveAlertsDocument,
  FilteredFiscalScorecardDocument,
  FilteredScorecardDocument,
  GroupedAlertsDocument,
  RecordEventsDocument,
  SetFilteredTargetDocument,
} from './generated/operations.js';
import { iso, onlyError, testApp, type Result, type TestApp } from './helpers/app.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-20T12:00:00.000Z');
const FROM = Date.parse('2026-03-01T00:00:00.000Z');
const TO = Date.parse('2026-03-15T00:00:00.000Z');

async function setup() {
  const t = await testApp({ now: () => NOW });
  await t.ok(CreateProgramWithDimensionsDocument, {
    input: {
      id: 'HA',
      name: 'A',
      dimensions: [
        { key: 'office', label: 'Office' },
        { key: 'channel', label: 'Channel' },
      ],
    },
  });
  // North: 2 and 4 days (web); South: 10 and 12 days (phone); one without an office: 6 days.
  const rows: [number, string | null, string][] = [
    [2, 'North', 'web'],
    [4, 'North', 'web'],
    [10, 'South', 'phone'],
    [12, 'South', 'phone'],
    [6, null, 'web'],
  ];
  const record = (at: number) =>
    t.ok(RecordEventsDocument, {
      events: rows.map(([days, office, channel], i) => ({
        kind: 'RESOLUTION_TIME' as const,
        programId: 'HA',
        caseId: `c${i}-${at}`,
        value: days,
        occurredAt: iso(at + i * 3_600_000),
        attributes: [...(office ? [{ key: 'office', value: office }] : []), { key: 'channel', value: channel }],
      })),
    });
  await record(FROM + 2 * DAY);
  await record(NOW - 2 * DAY);
  return t;
}

async function count(t: TestApp, table: 'targets' | 'alert_rules' | 'alerts'): Promise<number> {
  const row = await t.app.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function expectBadInput(result: Result<unknown>, field: string, rule: string) {
  const error = onlyError(result);
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.extensions?.field).toBe(field);
  expect(error.message).toContain(rule);
}

const judge = (t: TestApp) => t.app.services.alerts.engine.judge(null);

describe('targets and scorecards with a filter', () => {
  it('set a target for a filtered scope, read back by the same filter in any order, and judge the filtered actual', async () => {
    const t = await setup();
    const filter = [
      { key: 'office', values: ['South', 'North'] },
      { key: 'channel', values: ['phone'] },
    ];
    const { setTarget } = await t.ok(SetFilteredTargetDocument, {
      input: { programId: 'HA', kpi: 'AVG_RESOLUTION_TIME', from: iso(FROM), to: iso(TO), value: 8, filter },
    });
    expect(setTarget.filter).toEqual([
      { key: 'channel', values: ['phone'] },
      { key: 'office', values: ['North', 'South'] },
    ]);
    const reordered = [
      { key: 'channel', values: ['phone'] },
      { key: 'office', values: ['North', 'South'] },
    ];
    const card = await t.ok(FilteredScorecardDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      filter: reordered,
    });
    expect(card.scorecard.rows[0]).toEqual({ kpi: 'AVG_RESOLUTION_TIME', target: 8, actual: 11, status: 'NOT_MET' });
    // The whole program has no target for the period, and its own actual.
    const whole = await t.ok(FilteredScorecardDocument, { programId: 'HA', from: iso(FROM), to: iso(TO) });
    expect(whole.scorecard.rows[0]).toEqual({
      kpi: 'AVG_RESOLUTION_TIME',
      target: null,
      actual: 6.8,
      status: 'NO_TARGET',
    });
    // Setting it again for the same filter replaces it; another filter is another target.
    await t.ok(SetFilteredTargetDocument, {
      input: {
        programId: 'HA',
        kpi: 'AVG_RESOLUTION_TIME',
        from: iso(FROM),
        to: iso(TO),
        value: 12,
        filter: reordered,
      },
    });
    await t.ok(SetFilteredTargetDocument, {
      input: {
        programId: 'HA',
        kpi: 'AVG_RESOLUTION_TIME',
        from: iso(FROM),
        to: iso(TO),
        value: 3,
        filter: [{ key: 'office', values: ['North'] }],
      },
    });
    expect(await count(t, 'targets')).toBe(2);
    const again = await t.ok(FilteredScorecardDocument, { programId: 'HA', from: iso(FROM), to: iso(TO), filter });
    expect(again.scorecard.rows[0]).toMatchObject({ target: 12, status: 'MET' });
    const north = await t.ok(FilteredScorecardDocument, {
      programId: 'HA',
      from: iso(FROM),
      to: iso(TO),
      filter: [{ key: 'office', values: ['North'] }],
    });
    expect(north.scorecard.rows[0]).toMatchObject({ target: 3, actual: 3, status: 'MET' });
  });

  it('filter a fiscal scorecard', async () => {
    const t = await setup();
    const { fiscalScorecard } = await t.ok(FilteredFiscalScorecardDocument, {
      programId: 'HA',
      fiscalYear: 2026,
      filter: [{ key: 'office', values: ['South'] }],
    });
    expect(fiscalScorecard.rows[0]).toEqual({ kpi: 'AVG_RESOLUTION_TIME', actual: 11 });
  });

  it('refuse a target whose filter key the program does not declare, storing nothing', async () => {
    const t = await setup();
    expectBadInput(
      await t.run(SetFilteredTargetDocument, {
        input: {
          programId: 'HA',
          kpi: 'CSAT',
          from: iso(FROM),
          to: iso(TO),
          value: 80,
          filter: [{ key: 'region', values: ['x'] }],
        },
      }),
      'filter[0].key',
      '"region" is not a dimension of program "HA"',
    );
    expect(await count(t, 'targets')).toBe(0);
    expectBadInput(
      await t.run(FilteredScorecardDocument, {
        programId: 'HA',
        from: iso(FROM),
        to: iso(TO),
        filter: [{ key: 'region', values: ['x'] }],
      }),
      'filter[0].key',
      'is not a dimension',
    );
  });
});

describe('alert rules with a filter and groupBy', () => {
  it('judge only the filtered events', async () => {
    const t = await setup();
    // The default rule (every program, average over 7) holds at 6.8: only South's events pass it.
    await t.ok(DeleteAlertRuleDocument, { id: 'default-avg-resolution-time' });
    const { createAlertRule } = await t.ok(CreateGroupedRuleDocument, {
      input: {
        name: 'South slow',
        programId: 'HA',
        kpi: 'AVG_RESOLUTION_TIME',
        comparator: 'GT',
        threshold: 7,
        windowDays: 7,
        filter: [{ key: 'office', values: ['South'] }],
      },
    });
    expect(createAlertRule).toMatchObject({ filter: [{ key: 'office', values: ['South'] }], groupBy: null });
    await judge(t);
    const { alerts } = await t.ok(GroupedAlertsDocument, { programId: 'HA' });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'FIRING', value: 11, groupValue: null });
  });

  it('open one alert per value, at most one open per value, with the value in the webhook payload', async () => {
    const t = await setup();
    await t.ok(DeleteAlertRuleDocument, { id: 'default-avg-resolution-time' });
    await t.ok(CreateWebhookDocument, {
      input: { url: 'https://hooks.example/kpi', secret: '0123456789abcdef', programId: 'HA' },
    });
    await t.ok(CreateGroupedRuleDocument, {
      input: {
        name: 'Slow office',
        programId: null,
        kpi: 'AVG_RESOLUTION_TIME',
        comparator: 'GT',
        threshold: 2.5,
        windowDays: 7,
        groupBy: 'office',
      },
    });
    await judge(t);
    await judge(t);
    const { alerts } = await t.ok(GroupedAlertsDocument, { programId: 'HA' });
    expect(alerts.map((a) => [a.groupValue, a.state, a.value]).sort()).toEqual([
      ['North', 'FIRING', 3],
      ['South', 'FIRING', 11],
    ]);
    const bodies = await t.app.services.db.selectFrom('notifications').select('body').execute();
    expect(bodies.map((b) => JSON.parse(b.body).alert.groupValue).sort()).toEqual(['North', 'South']);
    expect(JSON.parse(bodies[0].body).rule.groupBy).toBe('office');
  });

  it('show on a filtered dashboard only the alerts about events within its filter', async () => {
    const t = await setup();
    // The default rule (average over 7 days above 7) holds at 6.8; these two fire.
    await t.ok(CreateGroupedRuleDocument, {
      input: {
        name: 'Slow office',
        programId: 'HA',
        kpi: 'AVG_RESOLUTION_TIME',
        comparator: 'GT',
        threshold: 2.5,
        windowDays: 7,
        groupBy: 'office',
      },
    });
    await t.ok(CreateGroupedRuleDocument, {
      input: {
        name: 'Slow phone',
        programId: 'HA',
        kpi: 'AVG_RESOLUTION_TIME',
        comparator: 'GT',
        threshold: 7,
        windowDays: 7,
        filter: [{ key: 'channel', values: ['phone'] }],
      },
    });
    await judge(t);
    const shown = async (filter: { key: string; values: string[] }[] | null) => {
      const { dashboard } = await t.ok(FilteredActiveAlertsDocument, { programId: 'HA', filter });
      return dashboard.activeAlerts
        .map((a) => `${a.rule.name}${a.groupValue === null ? '' : `:${a.groupValue}`}`)
        .sort();
    };
    expect(await shown(null)).toEqual(['Slow office:North', 'Slow office:South', 'Slow phone']);
    expect(await shown([{ key: 'office', values: ['South'] }])).toEqual(['Slow office:South']);
    expect(await shown([{ key: 'office', values: ['North', 'South'] }])).toEqual([
      'Slow office:North',
      'Slow office:South',
    ]);
    expect(await shown([{ key: 'channel', values: ['phone'] }])).toEqual(['Slow phone']);
    expect(await shown([{ key: 'channel', values: ['phone', 'web'] }])).toEqual(['Slow phone']);
    // Both keys named: an alert must be narrowed on both, which none of these is.
    expect(
      await shown([
        { key: 'channel', values: ['phone'] },
        { key: 'office', values: ['South'] },
      ]),
    ).toEqual([]);
  });

  it('refuse a groupBy that is not a dimension and a filter key none declares, storing nothing', async () => {
    const t = await setup();
    const input = { name: 'r', programId: 'HA', kpi: 'CSAT' as const, comparator: 'LT' as const, threshold: 50 };
    expectBadInput(
      await t.run(CreateGroupedRuleDocument, { input: { ...input, groupBy: 'region' } }),
      'groupBy',
      'must be a dimension of program "HA"',
    );
    expectBadInput(
      await t.run(CreateGroupedRuleDocument, { input: { ...input, filter: [{ key: 'region', values: ['x'] }] } }),
      'filter[0].key',
      'is not a dimension',
    );
    expect(await count(t, 'alert_rules')).toBe(1);
  });
});
