/**
 * Early warnings (issue 20): alert rules of kind TARGET_AT_RISK judge each running target's
 * meetsTargetProbability, through the same states and history as threshold rules.
 */
import { describe, expect, it } from 'vitest';
import {
  CreateWarningRuleDocument,
  DeleteTargetDocument,
  type EventInput,
  RecordEventsDocument,
  ScorecardDocument,
  SetTargetDocument,
  WarningAlertsDocument,
  WarningRulesDocument,
} from './generated/operations.js';
import { onlyError, type TestApp, testApp } from './helpers/app.js';

const DAY = 86_400_000;
const QUARTER = { from: '2026-04-01T00:00:00.000Z', to: '2026-07-01T00:00:00.000Z' };

/** Five conflicts a day on every day of [from, to). */
async function conflicts(t: TestApp, from: number, to: number) {
  const events: EventInput[] = [];
  for (let d = from; d < to; d += DAY)
    for (let i = 0; i < 5; i++)
      events.push({
        kind: 'CONFLICT',
        programId: 'HA',
        caseId: `c${d}-${i}`,
        occurredAt: new Date(d + (9 + i) * 3_600_000).toISOString(),
      });
  for (let i = 0; i < events.length; i += 5_000)
    await t.ok(RecordEventsDocument, { events: events.slice(i, i + 5_000) });
}

async function setup(now: { value: number }) {
  const t = await testApp({ now: () => now.value });
  await t.program('HA');
  // Half a year at five conflicts a day before the quarter, and its first month.
  await conflicts(t, Date.parse('2025-10-01T00:00:00Z'), Date.parse('2026-05-01T00:00:00Z'));
  // At most 400 conflicts in the quarter: 150 in April is on track, but the pace ends near 455.
  const { setTarget } = await t.ok(SetTargetDocument, {
    input: { programId: 'HA', kpi: 'TOTAL_CONFLICTS', value: 400, ...QUARTER },
  });
  const { createAlertRule } = await t.ok(CreateWarningRuleDocument, {
    input: {
      name: 'Conflict target at risk',
      programId: 'HA',
      kpi: 'TOTAL_CONFLICTS',
      kind: 'TARGET_AT_RISK',
      comparator: 'LT',
      threshold: 0.5,
    },
  });
  return { t, target: setTarget, rule: createAlertRule };
}

const judge = (t: TestApp) => t.app.services.alerts.engine.judge(null);

describe('TARGET_AT_RISK rules', () => {
  it('fire weeks before the period ends, on data that then misses the target', async () => {
    const now = { value: Date.parse('2026-05-01T06:00:00Z') };
    const { t, target, rule } = await setup(now);
    await judge(t);
    const card = (await t.ok(ScorecardDocument, { programId: 'HA', ...QUARTER })).scorecard;
    const row = card.rows.find((r) => r.kpi === 'TOTAL_CONFLICTS')!;
    // On track by the actual so far, at risk by the forecast.
    expect(row).toMatchObject({ actual: 150, status: 'ON_TRACK' });
    expect(row.forecast!.value).toBeGreaterThan(400);
    expect(row.forecast!.meetsTargetProbability).toBeLessThan(0.5);
    const [alert] = (await t.ok(WarningAlertsDocument, { programId: 'HA' })).alerts;
    expect(alert).toMatchObject({
      state: 'FIRING',
      targetId: target.id,
      groupValue: null,
      value: row.forecast!.meetsTargetProbability,
      rule: { id: rule.id, kind: 'TARGET_AT_RISK' },
    });
    // Sixty days before the end of the quarter.
    expect(Date.parse(QUARTER.to) - now.value).toBeGreaterThan(8 * 7 * DAY);

    // The quarter goes on at the same pace and ends over the target; the alert then resolves.
    now.value = Date.parse('2026-07-02T00:00:00Z');
    await conflicts(t, Date.parse('2026-05-01T00:00:00Z'), Date.parse(QUARTER.to));
    const ended = (await t.ok(ScorecardDocument, { programId: 'HA', ...QUARTER })).scorecard;
    expect(ended.rows.find((r) => r.kpi === 'TOTAL_CONFLICTS')).toMatchObject({
      actual: 455,
      status: 'NOT_MET',
      forecast: null,
    });
    await judge(t);
    const [after] = (await t.ok(WarningAlertsDocument, { programId: 'HA' })).alerts;
    expect(after.state).toBe('RESOLVED');
    expect(after.history.map((h) => [h.state, h.cause])).toEqual([
      ['FIRING', 'EVALUATION'],
      ['RESOLVED', 'TARGET_ENDED'],
    ]);
  });

  it('resolve when their target is deleted, with the cause in the history', async () => {
    const now = { value: Date.parse('2026-05-01T06:00:00Z') };
    const { t, target } = await setup(now);
    await judge(t);
    expect((await t.ok(WarningAlertsDocument, { programId: 'HA' })).alerts[0].state).toBe('FIRING');
    expect((await t.ok(DeleteTargetDocument, { id: target.id })).deleteTarget).toBe(true);
    const [alert] = (await t.ok(WarningAlertsDocument, { programId: 'HA' })).alerts;
    expect(alert.state).toBe('RESOLVED');
    expect(alert.history.map((h) => h.cause)).toEqual(['EVALUATION', 'TARGET_DELETED']);
    await judge(t);
    expect((await t.ok(WarningAlertsDocument, { programId: 'HA' })).alerts).toHaveLength(1);
  });

  it('refuse a threshold outside 0..1 and a groupBy, and store nothing', async () => {
    const t = await testApp();
    await t.program('HA');
    const base = {
      name: 'x',
      programId: 'HA',
      kpi: 'CSAT' as const,
      kind: 'TARGET_AT_RISK' as const,
      comparator: 'LT' as const,
    };
    for (const threshold of [1.5, -0.1]) {
      const error = onlyError(await t.run(CreateWarningRuleDocument, { input: { ...base, threshold } }));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'threshold' });
    }
    const grouped = onlyError(
      await t.run(CreateWarningRuleDocument, { input: { ...base, threshold: 0.5, groupBy: 'office' } }),
    );
    expect(grouped.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'groupBy' });
    // A threshold rule may still use any finite threshold.
    await t.ok(CreateWarningRuleDocument, { input: { ...base, kind: 'THRESHOLD', threshold: 50 } });
    expect((await t.ok(WarningRulesDocument, {})).alertRules.map((r) => r.kind).sort()).toEqual([
      'THRESHOLD',
      'THRESHOLD',
    ]);
  });

  it('are not seeded on a new installation', async () => {
    const t = await testApp();
    expect((await t.ok(WarningRulesDocument, {})).alertRules.every((r) => r.kind === 'THRESHOLD')).toBe(true);
  });
});
