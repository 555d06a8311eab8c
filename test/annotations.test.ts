/**
 * Annotations and impact (issue 21): creating and deleting annotations, who may, what is refused,
 * dashboards listing them (live too), and impact's rows held against textbook computations.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { describe, expect, it } from 'vitest';
import { KPI_KEYS } from '../src/kpis/registry.js';
import {
  AuditLogDocument,
  CreateAnnotationDocument,
  DashboardAnnotationsDocument,
  DeleteAnnotationDocument,
  type EventInput,
  ImpactDocument,
  LiveDashboardAnnotationsDocument,
  RecordEventsDocument,
} from './generated/operations.js';
import { iso, onlyError, testApp, type TestApp } from './helpers/app.js';
import { connect, listen } from './helpers/ws.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-15T12:00:00.000Z');
/** The annotated change: ten days ago. */
const AT = NOW - 10 * DAY;

async function setup() {
  const t = await testApp({ now: () => NOW });
  await t.program('HA');
  await t.program('FB');
  return t;
}

const annotate = (t: TestApp, at = AT, title = 'New intake form', programId = 'HA', key?: string) =>
  t.run(CreateAnnotationDocument, { input: { programId, at: iso(at), title } }, key);

async function created(t: TestApp, at = AT, title = 'New intake form', programId = 'HA') {
  const result = await annotate(t, at, title, programId);
  expect(result.errors).toBeUndefined();
  return result.data!.createAnnotation;
}

let caseNo = 0;
/** Events of one kind at `at + i` ms, one per value. */
const events = (kind: EventInput['kind'], values: (number | null)[], at: number, programId = 'HA'): EventInput[] =>
  values.map((value, i) => ({
    programId,
    kind,
    value,
    caseId: `c${++caseNo}`,
    occurredAt: iso(at + i * 1000),
  }));

const record = (t: TestApp, list: EventInput[]) => t.ok(RecordEventsDocument, { events: list });

const rowOf = <R extends { kpi: string }>(rows: R[], kpi: string) => rows.find((r) => r.kpi === kpi)!;

describe('createAnnotation and deleteAnnotation', () => {
  it('stores an annotation, lists it on dashboards whose range holds its instant, oldest first, and audits it', async () => {
    const t = await setup();
    const later = await created(t, AT + DAY, 'Two more staff');
    const first = await created(t, AT, 'New intake form');
    expect(first).toMatchObject({ programId: 'HA', at: iso(AT), title: 'New intake form', description: null });
    expect(first.createdAt).toBe(iso(NOW));
    const range = { programId: 'HA', from: iso(AT - DAY), to: iso(AT + 2 * DAY) };
    const { dashboard } = await t.ok(DashboardAnnotationsDocument, range);
    expect(dashboard.annotations.map((a) => a.id)).toEqual([first.id, later.id]);
    // The range is [from, to): an annotation at `to` is outside, one at `from` inside.
    const edge = await t.ok(DashboardAnnotationsDocument, { programId: 'HA', from: iso(AT), to: iso(AT + DAY) });
    expect(edge.dashboard.annotations.map((a) => a.id)).toEqual([first.id]);
    expect((await t.ok(DashboardAnnotationsDocument, { ...range, programId: 'FB' })).dashboard.annotations).toEqual([]);
    // Every program the key sees.
    const all = await t.ok(DashboardAnnotationsDocument, { programId: null, from: range.from, to: range.to });
    expect(all.dashboard.annotations).toHaveLength(2);
    const { auditLog } = await t.ok(AuditLogDocument, { action: 'createAnnotation' });
    expect(auditLog.map((e) => e.targetId).sort()).toEqual([first.id, later.id].sort());
  });

  it('takes a title of 1 and of 200 characters, a description of 2,000, and an instant up to 5 minutes ahead', async () => {
    const t = await setup();
    expect((await annotate(t, AT, 'x')).errors).toBeUndefined();
    expect((await annotate(t, AT, '📋'.repeat(200))).errors).toBeUndefined();
    expect((await annotate(t, NOW + 5 * 60_000, 'ahead')).errors).toBeUndefined();
    const long = await t.run(CreateAnnotationDocument, {
      input: { programId: 'HA', at: iso(AT), title: 't', description: 'd'.repeat(2000) },
    });
    expect(long.data?.createAnnotation.description).toHaveLength(2000);
  });

  it.each([
    ['an empty title', { title: '' }, 'title', /1 to 200 characters/],
    ['a blank title', { title: '   ' }, 'title', /not all blank/],
    ['a title of 201 characters', { title: 'x'.repeat(201) }, 'title', /1 to 200 characters/],
    ['a description of 2,001 characters', { description: 'd'.repeat(2001) }, 'description', /at most 2000/],
    ['an instant more than 5 minutes ahead', { at: iso(NOW + 5 * 60_000 + 1) }, 'at', /5 minutes/],
  ])('refuses %s, naming the field and the rule, and stores nothing', async (_, change, field, rule) => {
    const t = await setup();
    const error = onlyError(
      await t.run(CreateAnnotationDocument, { input: { programId: 'HA', at: iso(AT), title: 'ok', ...change } }),
    );
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toMatch(rule);
    const { dashboard } = await t.ok(DashboardAnnotationsDocument, {
      programId: 'HA',
      from: iso(AT - DAY),
      to: iso(NOW + DAY),
    });
    expect(dashboard.annotations).toEqual([]);
    expect((await t.ok(AuditLogDocument, { action: 'createAnnotation' })).auditLog).toEqual([]);
  });

  it("is for admins within their programs: another program's is FORBIDDEN by program, NOT_FOUND by id", async () => {
    const t = await setup();
    const mine = await created(t);
    const adminFB = await t.key('ADMIN', ['FB']);
    const viewer = await t.key('VIEWER');
    expect(onlyError(await annotate(t, AT, 'x', 'HA', adminFB)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await annotate(t, AT, 'x', 'HA', viewer)).extensions?.code).toBe('FORBIDDEN');
    expect(onlyError(await annotate(t, AT, 'x', 'nope')).extensions?.code).toBe('NOT_FOUND');
    const refused = await t.run(DeleteAnnotationDocument, { id: mine.id }, adminFB);
    expect(onlyError(refused).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(refused).message).toBe(`annotation "${mine.id}" was not found`);
    expect(onlyError(await t.run(DeleteAnnotationDocument, { id: mine.id }, viewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    // Still there, and an admin of FB creates in FB.
    expect((await t.ok(ImpactDocument, { annotationId: mine.id })).impact.annotation.id).toBe(mine.id);
    expect((await annotate(t, AT, 'x', 'FB', adminFB)).errors).toBeUndefined();
  });

  it('deletes an annotation: then NOT_FOUND to delete again and to impact, and gone from dashboards', async () => {
    const t = await setup();
    const annotation = await created(t);
    expect((await t.ok(DeleteAnnotationDocument, { id: annotation.id })).deleteAnnotation).toBe(true);
    for (const result of [
      await t.run(DeleteAnnotationDocument, { id: annotation.id }),
      await t.run(ImpactDocument, { annotationId: annotation.id }),
      await t.run(DeleteAnnotationDocument, { id: 'never-made' }),
    ])
      expect(onlyError(result).extensions?.code).toBe('NOT_FOUND');
    const { dashboard } = await t.ok(DashboardAnnotationsDocument, {
      programId: 'HA',
      from: iso(AT - DAY),
      to: iso(NOW),
    });
    expect(dashboard.annotations).toEqual([]);
    expect((await t.ok(AuditLogDocument, { action: 'deleteAnnotation' })).auditLog[0].targetId).toBe(annotation.id);
  });

  it('pushes live dashboards when an annotation in their range is added and when it is deleted', async () => {
    const t = await testApp({ now: () => NOW, env: { LIVE_THROTTLE_MS: '0' } });
    await t.program('HA');
    const url = await listen(t);
    const live = connect(url, await t.key('VIEWER', ['HA'])).subscribe(LiveDashboardAnnotationsDocument, {
      programId: 'HA',
      from: iso(AT - DAY),
      to: iso(AT + DAY),
    });
    expect((await live.next()).data?.dashboardUpdated.annotations).toEqual([]);
    const annotation = await created(t, AT, 'Walk-in hours');
    const pushed = await live.until((d) => d.dashboardUpdated.annotations.length === 1);
    expect(pushed.dashboardUpdated.annotations[0]).toEqual({ id: annotation.id, title: 'Walk-in hours', at: iso(AT) });
    await t.ok(DeleteAnnotationDocument, { id: annotation.id });
    await live.until((d) => d.dashboardUpdated.annotations.length === 0);
  });
});

describe('impact', () => {
  it('refuses days outside 1..365, naming the field', async () => {
    const t = await setup();
    const { id } = await created(t);
    for (const days of [0, -1, 366]) {
      const error = onlyError(await t.run(ImpactDocument, { annotationId: id, days }));
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'days' });
      expect(error.message).toMatch(/1 to 365/);
    }
    for (const days of [1, 365])
      expect((await t.run(ImpactDocument, { annotationId: id, days })).errors).toBeUndefined();
  });

  it("answers NOT_FOUND for another program's annotation, to a limited admin and to a viewer", async () => {
    const t = await setup();
    const { id } = await created(t);
    for (const key of [await t.key('ADMIN', ['FB']), await t.key('VIEWER', ['FB'])]) {
      const error = onlyError(await t.run(ImpactDocument, { annotationId: id }, key));
      expect(error.extensions?.code).toBe('NOT_FOUND');
      expect(error.message).not.toContain('HA');
    }
    expect((await t.run(ImpactDocument, { annotationId: id }, await t.key('VIEWER', ['HA']))).errors).toBeUndefined();
  });

  it('compares [at − days, at) with [at, at + days), the part after now not counted', async () => {
    const t = await setup();
    const { id } = await created(t);
    await record(t, [
      ...events('RESOLUTION_TIME', [100], AT - 5 * DAY - 1), // before the before side
      ...events('RESOLUTION_TIME', [4, 6], AT - 5 * DAY), // its first instant
      ...events('RESOLUTION_TIME', [1], AT - 1), // its last
      ...events('RESOLUTION_TIME', [2, 3], AT), // the after side's first instant
      ...events('RESOLUTION_TIME', [7], AT + 5 * DAY - 1), // its last
      ...events('RESOLUTION_TIME', [100], AT + 5 * DAY), // after it
    ]);
    const { impact } = await t.ok(ImpactDocument, { annotationId: id, days: 5 });
    expect(impact.beforeFrom).toBe(iso(AT - 5 * DAY));
    expect(impact.afterTo).toBe(iso(AT + 5 * DAY));
    expect(rowOf(impact.rows, 'AVG_RESOLUTION_TIME')).toMatchObject({ before: 11 / 3, after: 4, change: 4 - 11 / 3 });
    // 30 days: the after side stops at now (ten days after), so the event after 5 days counts and nothing later can.
    const month = (await t.ok(ImpactDocument, { annotationId: id, days: 30 })).impact;
    expect(month.afterTo).toBe(iso(NOW));
    expect(rowOf(month.rows, 'AVG_RESOLUTION_TIME')).toMatchObject({ before: 111 / 4, after: 112 / 4 });
    expect(impact.rows.map((r) => r.kpi)).toEqual(KPI_KEYS);
  });

  it('gives counts and percentiles no interval', async () => {
    const t = await setup();
    const { id } = await created(t);
    await record(t, [
      ...events('RESOLUTION_TIME', [1, 2, 3, 4], AT - DAY),
      ...events('RESOLUTION_TIME', [5, 6, 7, 8], AT + 1),
      ...events('CONFLICT', [null, null], AT + 1),
    ]);
    const { impact } = await t.ok(ImpactDocument, { annotationId: id, days: 2 });
    for (const kpi of ['MEDIAN_RESOLUTION_TIME', 'P90_RESOLUTION_TIME', 'TOTAL_CONFLICTS']) {
      const row = rowOf(impact.rows, kpi);
      expect(row.change, kpi).not.toBeNull();
      expect(row, kpi).toMatchObject({ low: null, high: null, significant: null });
    }
    expect(rowOf(impact.rows, 'TOTAL_CONFLICTS')).toMatchObject({ before: 0, after: 2, change: 2 });
  });

  it('answers null after values for an annotation still ahead: its after side is empty', async () => {
    const t = await setup();
    const { id } = await created(t, NOW + 4 * 60_000, 'Next week: new form');
    await record(t, [
      ...events('RESOLUTION_TIME', [1, 2, 3], NOW - DAY),
      ...events('SATISFACTION', [4, 5, 2], NOW - DAY),
      // Stamped ahead of now, after the annotation: still not counted.
      ...events('RESOLUTION_TIME', [9], NOW + 4 * 60_000 + 1),
    ]);
    const { impact } = await t.ok(ImpactDocument, { annotationId: id });
    expect(impact.afterTo).toBe(iso(NOW + 4 * 60_000));
    for (const row of impact.rows) {
      expect(row.after, row.kpi).toBeNull();
      expect(row, row.kpi).toMatchObject({ change: null, low: null, high: null, significant: null });
    }
    expect(rowOf(impact.rows, 'AVG_RESOLUTION_TIME').before).toBe(2);
  });

  it('answers a null interval, never a division by zero, with too little data on one side', async () => {
    const t = await setup();
    const { id } = await created(t);
    await record(t, [
      // One resolution before, three after: no variance before.
      ...events('RESOLUTION_TIME', [5], AT - DAY),
      ...events('RESOLUTION_TIME', [1, 2, 3], AT + 1),
      // Satisfaction after only.
      ...events('SATISFACTION', [5, 4], AT + 1),
    ]);
    const { impact } = await t.ok(ImpactDocument, { annotationId: id, days: 2 });
    expect(rowOf(impact.rows, 'AVG_RESOLUTION_TIME')).toEqual({
      kpi: 'AVG_RESOLUTION_TIME',
      before: 5,
      after: 2,
      change: -3,
      low: null,
      high: null,
      significant: null,
    });
    for (const kpi of ['AVG_SATISFACTION', 'CSAT'])
      expect(rowOf(impact.rows, kpi)).toMatchObject({ before: null, change: null, low: null, significant: null });
    // No conflicts of no cases... one case before: a proportion of 0 of 1 against 0 of 3 has an interval.
    const rate = rowOf(impact.rows, 'CONFLICT_RATE');
    expect(rate).toMatchObject({ before: 0, after: 0, change: 0, significant: false });
    expect(rate.low).toBeLessThan(0);
    expect(rate.high).toBeGreaterThan(0);
  });

  it('answers a null interval when neither side varies (no t statistic)', async () => {
    const t = await setup();
    const { id } = await created(t);
    await record(t, [...events('RESOLUTION_TIME', [3, 3, 3], AT - DAY), ...events('RESOLUTION_TIME', [4, 4], AT + 1)]);
    const row = rowOf((await t.ok(ImpactDocument, { annotationId: id, days: 2 })).impact.rows, 'AVG_RESOLUTION_TIME');
    expect(row).toMatchObject({ before: 3, after: 4, change: 1, low: null, high: null, significant: null });
  });

  it("equals Welch's interval computed from the raw values, on the textbook example (t = −2.46, ν = 24.99)", async () => {
    // Wikipedia, "Welch's t-test", example 1: A1 before, A2 after. Welch: t = −2.46, ν ≈ 25.0, p = 0.021.
    const before = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
    const after = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    const variance = (x: number[]) => x.reduce((s, v) => s + (v - mean(x)) ** 2, 0) / (x.length - 1);
    const a = variance(before) / before.length;
    const b = variance(after) / after.length;
    const se = Math.sqrt(a + b);
    const df = (a + b) ** 2 / (a ** 2 / (before.length - 1) + b ** 2 / (after.length - 1));
    const difference = mean(after) - mean(before);
    // The textbook's answers, to the digits it gives them.
    expect((mean(before) - mean(after)) / se).toBeCloseTo(-2.46, 2);
    expect(df).toBeCloseTo(24.99, 2);
    // t(0.975, 25) is 2.060 in every table; ν = 24.99 is a hair above it.
    expect(tQuantile(0.975, df)).toBeCloseTo(2.0596, 4);
    const low = difference - tQuantile(0.975, df) * se;
    const high = difference + tQuantile(0.975, df) * se;

    const t = await setup();
    const { id } = await created(t);
    await record(t, [
      ...events('RESOLUTION_TIME', before, AT - 3 * DAY),
      ...events('RESOLUTION_TIME', after, AT + DAY),
    ]);
    const row = rowOf((await t.ok(ImpactDocument, { annotationId: id, days: 5 })).impact.rows, 'AVG_RESOLUTION_TIME');
    expect(row.before).toBeCloseTo(20.82, 12);
    expect(row.after).toBeCloseTo(22.986666666666668, 12);
    expect(Math.abs(row.low! - low)).toBeLessThan(1e-9);
    expect(Math.abs(row.high! - high)).toBeLessThan(1e-9);
    expect(row.low).toBeCloseTo(0.3492, 4);
    expect(row.high).toBeCloseTo(3.9841, 4);
    // p = 0.021 < 0.05: the interval excludes 0.
    expect(row.significant).toBe(true);
  });

  it("equals Newcombe's published interval for a difference of proportions (CSAT, 56/70 against 48/80)", async () => {
    // Newcombe (1998), Statistics in Medicine 17:873, table II, method 10: 0.0524 to 0.3339.
    const t = await setup();
    const { id } = await created(t);
    const scores = (satisfied: number, total: number) =>
      Array.from({ length: total }, (_, i) => (i < satisfied ? 5 : 2));
    await record(t, [
      ...events('SATISFACTION', scores(48, 80), AT - DAY),
      ...events('SATISFACTION', scores(56, 70), AT + 1),
    ]);
    const row = rowOf((await t.ok(ImpactDocument, { annotationId: id, days: 2 })).impact.rows, 'CSAT');
    expect(row.before).toBeCloseTo(60, 12);
    expect(row.after).toBeCloseTo(80, 12);
    expect(row.low).toBeCloseTo(5.24, 2);
    expect(row.high).toBeCloseTo(33.39, 2);
    expect(row.significant).toBe(true);
  });
});
