/** Alert rules and alerts through the API: rules, transitions with history, acknowledgement, scope. */
import { describe, expect, it } from 'vitest';
import { insertAlert, listRules, type Alert } from '../src/alerts/alerts.repository.js';
import { DAY, HOUR, MINUTE } from '../src/kpis/time.js';
import {
  AcknowledgeAlertDocument,
  AlertChangedDocument,
  AlertRulesDocument,
  AlertsDocument,
  AlertWithHistoryDocument,
  CreateAlertRuleDocument,
  CreateApiKeyDocument,
  DashboardActiveAlertsDocument,
  DeleteAlertRuleDocument,
  DisableAlertRuleDocument,
  EnableAlertRuleDocument,
  RecordEventsDocument,
  UpdateAlertRuleDocument,
  type CreateAlertRuleInput,
} from './generated/operations.js';
import { ADMIN_KEY, iso, onlyError, testApp, type TestApp } from './helpers/app.js';
import { subscribeSse } from './helpers/sse.js';

const DEFAULT_RULE = 'default-avg-resolution-time';

/** Records resolution times (days) for a program, an hour before `at`. */
async function resolutions(t: TestApp, programId: string, days: number[], at = Date.now()) {
  await t.ok(RecordEventsDocument, {
    events: days.map((value, i) => ({
      kind: 'RESOLUTION_TIME' as const,
      programId,
      caseId: `${programId}-${i}-${value}-${Math.random()}`,
      value,
      occurredAt: iso(at - HOUR),
    })),
  });
}

/** Judges every rule now (the same code the timer and record notices run). */
const judge = (t: TestApp) => t.app.services.alerts.engine.judge(null);

const rule = (input: Partial<CreateAlertRuleInput> = {}): CreateAlertRuleInput => ({
  name: 'Slow resolutions',
  kpi: 'AVG_RESOLUTION_TIME',
  comparator: 'GT',
  threshold: 7,
  windowDays: 7,
  ...input,
});

describe('alert rules', () => {
  it('holds the default rule on a fresh database, and an admin may delete it', async () => {
    const t = await testApp();
    const { alertRules } = await t.ok(AlertRulesDocument, {});
    expect(alertRules).toEqual([
      expect.objectContaining({
        id: DEFAULT_RULE,
        programId: null,
        kpi: 'AVG_RESOLUTION_TIME',
        comparator: 'GT',
        threshold: 7,
        windowDays: 30,
        severity: 'WARNING',
        enabled: true,
      }),
    ]);
    expect(await t.ok(DeleteAlertRuleDocument, { id: DEFAULT_RULE })).toEqual({ deleteAlertRule: true });
    expect((await t.ok(AlertRulesDocument, {})).alertRules).toEqual([]);
    expect(onlyError(await t.run(DeleteAlertRuleDocument, { id: DEFAULT_RULE })).extensions?.code).toBe('NOT_FOUND');
  });

  it('creates, updates, disables and enables a rule', async () => {
    const t = await testApp();
    await t.program('HA');
    const { createAlertRule: created } = await t.ok(CreateAlertRuleDocument, {
      input: rule({ programId: 'HA', forMinutes: 15, recoveryThreshold: 6, severity: 'CRITICAL' }),
    });
    expect(created).toMatchObject({
      programId: 'HA',
      windowDays: 7,
      forMinutes: 15,
      recoveryThreshold: 6,
      severity: 'CRITICAL',
      enabled: true,
    });

    const { updateAlertRule: updated } = await t.ok(UpdateAlertRuleDocument, {
      id: created.id,
      input: { threshold: 9, recoveryThreshold: null, name: 'Very slow' },
    });
    expect(updated).toMatchObject({
      name: 'Very slow',
      threshold: 9,
      recoveryThreshold: null,
      forMinutes: 15,
      severity: 'CRITICAL',
    });
    expect((await t.ok(DisableAlertRuleDocument, { id: created.id })).disableAlertRule.enabled).toBe(false);
    expect((await t.ok(EnableAlertRuleDocument, { id: created.id })).enableAlertRule.enabled).toBe(true);
    expect((await t.ok(AlertRulesDocument, { programId: 'HA' })).alertRules.map((r) => r.id)).toEqual([
      DEFAULT_RULE,
      created.id,
    ]);
  });

  it.each([
    ['a rule on an unknown program', { programId: 'NOPE' }, 'programId'],
    ['windowDays 0', { windowDays: 0 }, 'windowDays'],
    ['windowDays 3651', { windowDays: 3651 }, 'windowDays'],
    ['a negative pending period', { forMinutes: -1 }, 'forMinutes'],
    ['a recovery threshold past the threshold', { recoveryThreshold: 8 }, 'recoveryThreshold'],
    ['an empty name', { name: '  ' }, 'name'],
  ])('refuses %s with BAD_USER_INPUT and stores nothing', async (_, input, field) => {
    const t = await testApp();
    const error = onlyError(await t.run(CreateAlertRuleDocument, { input: rule(input) }));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toMatch(new RegExp(`^${field} `));
    expect(await listRules(t.app.services.db, null)).toHaveLength(1);
  });

  it('refuses a non-finite threshold with BAD_USER_INPUT and stores nothing', async () => {
    const t = await testApp();
    // GraphQL's Float literal 1e999 parses to Infinity and reaches the rule check.
    const response = await t.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        query: 'mutation { createAlertRule(input: {name: "x", kpi: CSAT, comparator: LT, threshold: 1e999}) { id } }',
      }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors.map((e) => [e.extensions.code, e.message])).toEqual([
      ['BAD_USER_INPUT', 'threshold must be a finite number'],
    ]);
    expect(await listRules(t.app.services.db, null)).toHaveLength(1);
  });

  it('lets only admins manage rules, and shows a viewer the rules of its programs', async () => {
    const t = await testApp();
    await t.program('HA');
    await t.program('HB');
    const viewer = await t.key('VIEWER', ['HA']);
    const scopedAdmin = await t.key('ADMIN', ['HA']);
    const ha = (await t.ok(CreateAlertRuleDocument, { input: rule({ programId: 'HA' }) })).createAlertRule;
    const hb = (await t.ok(CreateAlertRuleDocument, { input: rule({ programId: 'HB' }) })).createAlertRule;

    expect(
      onlyError(await t.run(CreateAlertRuleDocument, { input: rule({ programId: 'HA' }) }, viewer)).extensions?.code,
    ).toBe('FORBIDDEN');
    expect(onlyError(await t.run(DeleteAlertRuleDocument, { id: ha.id }, viewer)).extensions?.code).toBe('FORBIDDEN');
    expect(
      onlyError(await t.run(CreateAlertRuleDocument, { input: rule({ programId: 'HB' }) }, scopedAdmin)).extensions
        ?.code,
    ).toBe('FORBIDDEN');
    expect(onlyError(await t.run(CreateAlertRuleDocument, { input: rule() }, scopedAdmin)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(onlyError(await t.run(DeleteAlertRuleDocument, { id: hb.id }, scopedAdmin)).extensions?.code).toBe(
      'NOT_FOUND',
    );

    expect((await t.ok(AlertRulesDocument, {}, viewer)).alertRules.map((r) => r.id)).toEqual([DEFAULT_RULE, ha.id]);
    expect(onlyError(await t.run(AlertRulesDocument, { programId: 'HB' }, viewer)).extensions?.code).toBe('FORBIDDEN');
    expect((await t.ok(AlertRulesDocument, {})).alertRules.map((r) => r.id)).toEqual([DEFAULT_RULE, ha.id, hb.id]);
  });
});

describe('alerts', () => {
  it('judges a rule for every program separately, and no data changes nothing', async () => {
    const t = await testApp();
    for (const id of ['HA', 'HB', 'HC']) await t.program(id);
    await resolutions(t, 'HA', [10, 12]);
    await resolutions(t, 'HB', [3]);
    await judge(t);
    let { alerts } = await t.ok(AlertsDocument, {});
    expect(alerts.map((a) => [a.programId, a.state, a.value, a.rule.id])).toEqual([['HA', 'FIRING', 11, DEFAULT_RULE]]);

    await resolutions(t, 'HB', [20]);
    await judge(t);
    ({ alerts } = await t.ok(AlertsDocument, { states: ['FIRING'] }));
    expect(alerts.map((a) => a.programId).sort()).toEqual(['HA', 'HB']);
    // Judging again with nothing new changes nothing.
    await judge(t);
    expect((await t.ok(AlertsDocument, {})).alerts).toHaveLength(2);
  });

  it('keeps every transition in the history: PENDING for forMinutes, FIRING, acknowledged, RESOLVED', async () => {
    let clock = Date.parse('2026-03-02T12:00:00Z');
    const t = await testApp({ now: () => clock });
    await t.program('HA');
    await t.ok(DeleteAlertRuleDocument, { id: DEFAULT_RULE });
    const { createAlertRule: r } = await t.ok(CreateAlertRuleDocument, {
      input: rule({ programId: 'HA', forMinutes: 10 }),
    });
    const start = clock;

    await resolutions(t, 'HA', [9], clock);
    await judge(t);
    const [pending] = (await t.ok(AlertsDocument, { programId: 'HA' })).alerts;
    expect(pending).toMatchObject({ state: 'PENDING', value: 9, threshold: 7, startedAt: iso(start), firedAt: null });

    clock += 5 * MINUTE;
    await judge(t);
    expect((await t.ok(AlertsDocument, { programId: 'HA' })).alerts[0].state).toBe('PENDING');
    clock += 5 * MINUTE;
    await judge(t);
    expect((await t.ok(AlertsDocument, { programId: 'HA' })).alerts[0]).toMatchObject({
      id: pending.id,
      state: 'FIRING',
      firedAt: iso(clock),
    });

    clock += MINUTE;
    await t.ok(AcknowledgeAlertDocument, { id: pending.id });
    clock += MINUTE;
    await resolutions(t, 'HA', [1, 1, 1], clock);
    await judge(t);

    const { alert } = await t.ok(AlertWithHistoryDocument, { id: pending.id });
    expect(alert).toMatchObject({ state: 'RESOLVED', value: 3, resolvedAt: iso(clock), rule: { id: r.id } });
    expect(alert!.history.map((h) => [h.state, h.value, h.at, h.cause, h.actor])).toEqual([
      ['PENDING', 9, iso(start), 'EVALUATION', null],
      ['FIRING', 9, iso(start + 10 * MINUTE), 'EVALUATION', null],
      ['FIRING', 9, iso(start + 11 * MINUTE), 'ACKNOWLEDGED', 'ADMIN_API_KEY'],
      ['RESOLVED', 3, iso(start + 12 * MINUTE), 'EVALUATION', null],
    ]);
  });

  it('a window slides: old data leaves the KPI and the alert resolves on the timer', async () => {
    let clock = Date.parse('2026-03-02T12:00:00Z');
    const t = await testApp({ now: () => clock });
    await t.program('HA');
    await t.ok(CreateAlertRuleDocument, { input: rule({ programId: 'HA', windowDays: 7 }) });
    await resolutions(t, 'HA', [16], clock - 6 * DAY);
    await resolutions(t, 'HA', [2], clock);
    await judge(t);
    const firing = (await t.ok(AlertsDocument, { programId: 'HA', states: ['FIRING'] })).alerts;
    expect(firing.map((a) => a.value)).toEqual([9, 9]); // the 7-day rule and the 30-day default
    clock += 2 * DAY; // the 16-day case leaves the 7-day window, not the 30-day one
    await judge(t);
    const { alerts } = await t.ok(AlertsDocument, { programId: 'HA' });
    expect(alerts.map((a) => [a.rule.id === DEFAULT_RULE ? 'default' : '7d', a.state, a.value]).sort()).toEqual([
      ['7d', 'RESOLVED', 2],
      ['default', 'FIRING', 9],
    ]);
  });

  it('acknowledgeAlert records which key acknowledged and when, once; only admins may', async () => {
    let clock = Date.parse('2026-03-02T12:00:00Z');
    const t = await testApp({ now: () => clock });
    await t.program('HA');
    await resolutions(t, 'HA', [10], clock);
    await judge(t);
    const [alert] = (await t.ok(AlertsDocument, {})).alerts;
    const admin = await t.ok(CreateApiKeyDocument, { input: { name: 'ops', role: 'ADMIN' } });
    const viewer = await t.key('VIEWER');

    expect(onlyError(await t.run(AcknowledgeAlertDocument, { id: alert.id }, viewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect(onlyError(await t.run(AcknowledgeAlertDocument, { id: 'no-such-alert' })).extensions?.code).toBe(
      'NOT_FOUND',
    );
    clock += MINUTE;
    const first = (await t.ok(AcknowledgeAlertDocument, { id: alert.id }, admin.createApiKey.key)).acknowledgeAlert;
    expect(first).toMatchObject({
      acknowledgedAt: iso(clock),
      acknowledgedBy: admin.createApiKey.apiKey.id,
      state: 'FIRING',
    });
    clock += MINUTE;
    expect((await t.ok(AcknowledgeAlertDocument, { id: alert.id })).acknowledgeAlert).toMatchObject({
      acknowledgedAt: first.acknowledgedAt,
      acknowledgedBy: first.acknowledgedBy,
    });
  });

  it('the database refuses a second open alert for one rule and program, even from concurrent writers', async () => {
    const t = await testApp();
    await t.program('HA');
    const db = t.app.services.db;
    const base: Alert = {
      id: 'a1',
      rule_id: DEFAULT_RULE,
      program_id: 'HA',
      state: 'FIRING',
      value: 8,
      threshold: 7,
      started_at: 1,
      fired_at: 1,
      resolved_at: null,
      acknowledged_at: null,
      acknowledged_by: null,
      version: 1,
      group_key: '',
    };
    await insertAlert(db, base);
    await expect(insertAlert(db, { ...base, id: 'a2', state: 'PENDING' })).rejects.toThrow();
    // Resolved alerts are history: any number of them may sit beside the open one.
    await insertAlert(db, { ...base, id: 'a3', state: 'RESOLVED', resolved_at: 2 });
    await insertAlert(db, { ...base, id: 'a4', state: 'RESOLVED', resolved_at: 3 });

    // Two writers that both believe no alert is open: one opens it, the other is refused.
    await t.program('HB');
    const [ruleRow] = await listRules(db, null);
    const writer = t.app.services.alerts.writer;
    const outcomes = await Promise.allSettled(
      [1, 2].map(() => writer.transition(ruleRow, 'HB', null, { to: 'FIRING', value: 9, at: Date.now() })),
    );
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await t.ok(AlertsDocument, { programId: 'HB' })).alerts).toHaveLength(1);
  });

  it('disabling or deleting a rule resolves its open alerts and keeps their history', async () => {
    const t = await testApp();
    await t.program('HA');
    await resolutions(t, 'HA', [10]);
    const { createAlertRule: r } = await t.ok(CreateAlertRuleDocument, { input: rule({ programId: 'HA' }) });
    await judge(t);
    expect((await t.ok(AlertsDocument, { states: ['FIRING'] })).alerts).toHaveLength(2);

    await t.ok(DisableAlertRuleDocument, { id: r.id });
    const [mine] = (await t.ok(AlertsDocument, {})).alerts.filter((a) => a.rule.id === r.id);
    expect(mine.state).toBe('RESOLVED');
    expect((await t.ok(AlertWithHistoryDocument, { id: mine.id })).alert!.history.map((h) => h.cause)).toEqual([
      'EVALUATION',
      'RULE_DISABLED',
    ]);
    await judge(t);
    expect((await t.ok(AlertsDocument, { states: ['FIRING'] })).alerts.map((a) => a.rule.id)).toEqual([DEFAULT_RULE]);

    await t.ok(EnableAlertRuleDocument, { id: r.id });
    await judge(t);
    expect((await t.ok(AlertsDocument, { states: ['FIRING'] })).alerts).toHaveLength(2);

    await t.ok(DeleteAlertRuleDocument, { id: DEFAULT_RULE });
    const { alerts } = await t.ok(AlertsDocument, { states: ['RESOLVED'] });
    const deleted = alerts.find((a) => a.rule.id === DEFAULT_RULE)!;
    expect(deleted.rule.name).toMatch(/30 days/); // the rule stays readable through its alerts
    expect((await t.ok(AlertWithHistoryDocument, { id: deleted.id })).alert!.history.map((h) => h.cause)).toEqual([
      'EVALUATION',
      'RULE_DELETED',
    ]);
  });

  it("never shows a scoped key another program's alert: queries, dashboards, alertChanged", async () => {
    const t = await testApp();
    await t.program('HA');
    await t.program('HB');
    const viewer = await t.key('VIEWER', ['HA']);
    const stream = await subscribeSse(t.app, AlertChangedDocument, {}, viewer);
    const adminStream = await subscribeSse(t.app, AlertChangedDocument, { programId: 'HB' }, ADMIN_KEY);

    await resolutions(t, 'HB', [30]);
    await judge(t);
    await resolutions(t, 'HA', [20]);
    await judge(t);
    const seen = await stream.until((r) => r.data?.alertChanged.programId === 'HA');
    expect(seen.data?.alertChanged).toMatchObject({ state: 'FIRING', value: 20 });
    expect(stream.received.map((r) => r.data?.alertChanged.programId)).toEqual(['HA']);
    await adminStream.until((r) => r.data?.alertChanged.programId === 'HB');
    expect(adminStream.received.map((r) => r.data?.alertChanged.programId)).toEqual(['HB']);

    const { alerts } = await t.ok(AlertsDocument, {});
    const hb = alerts.find((a) => a.programId === 'HB')!;
    expect((await t.ok(AlertsDocument, {}, viewer)).alerts.map((a) => a.programId)).toEqual(['HA']);
    expect((await t.ok(AlertWithHistoryDocument, { id: hb.id }, viewer)).alert).toBeNull();
    expect(onlyError(await t.run(AlertsDocument, { programId: 'HB' }, viewer)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await t.run(AlertChangedDocument, { programId: 'HB' }, viewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );

    const all = (await t.ok(DashboardActiveAlertsDocument, {}, viewer)).dashboard;
    expect(all.activeAlerts.map((a) => a.programId)).toEqual(['HA']);
    expect(
      (await t.ok(DashboardActiveAlertsDocument, {})).dashboard.activeAlerts.map((a) => a.programId).sort(),
    ).toEqual(['HA', 'HB']);
    expect(
      (await t.ok(DashboardActiveAlertsDocument, { programId: 'HB' })).dashboard.activeAlerts.map((a) => a.id),
    ).toEqual([hb.id]);
  });
});
