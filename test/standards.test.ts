/**
 * Service standards (issue 20): Program.resolutionStandardDays, updateProgram, and WITHIN_STANDARD on
 * dashboards, series and breakdowns, judged exactly, each event against its own program's standard,
 * and judged again when a standard changes.
 */
import { describe, expect, it } from 'vitest';
import {
  AuditLogDocument,
  CreateProgramWithStandardDocument,
  ProgramStandardDocument,
  RecordDaysDocument,
  UpdateProgramDocument,
  WithinStandardDocument,
} from './generated/operations.js';
import { onlyError, testApp } from './helpers/app.js';

const NOW = Date.parse('2026-03-15T12:00:00.000Z');
const DAY = 86_400_000;
const at = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString();
const RANGE = { from: at(30), to: new Date(NOW + 1).toISOString() };

async function setup() {
  const t = await testApp({ now: () => NOW });
  await t.ok(CreateProgramWithStandardDocument, {
    input: { id: 'HA', name: 'Housing', resolutionStandardDays: 30 },
  });
  await t.ok(CreateProgramWithStandardDocument, { input: { id: 'FB', name: 'Food bank' } });
  const record = async (programId: string, days: number, daysAgo: number) =>
    t.ok(RecordDaysDocument, { input: { programId, caseId: `c${days}-${daysAgo}`, days, occurredAt: at(daysAgo) } });
  return { t, record };
}

describe('service standards', () => {
  it('counts the share of resolution times within the standard, exactly, with ties within', async () => {
    const { t, record } = await setup();
    // 30 exactly meets a 30-day standard; 30.000001 does not (a histogram bin would hold both).
    for (const [days, ago] of [
      [10, 20],
      [30, 10],
      [30.000001, 5],
      [45, 2],
    ] as const)
      await record('HA', days, ago);
    const { dashboard } = await t.ok(WithinStandardDocument, { programId: 'HA', ...RANGE, granularity: 'MONTH' });
    expect(dashboard.resolvedCases).toBe(4);
    expect(dashboard.withinStandard).toBe(50);
    // February holds the 10; March the tie (within) and the two over it.
    expect(dashboard.series.map((p) => p.withinStandard)).toEqual([100, 100 / 3]);
    expect(dashboard.breakdown).toEqual([{ value: 'HA', withinStandard: 50 }]);
  });

  it('is null without a standard or without resolution times', async () => {
    const { t, record } = await setup();
    await record('FB', 3, 1);
    expect((await t.ok(WithinStandardDocument, { programId: 'FB', ...RANGE })).dashboard.withinStandard).toBeNull();
    expect((await t.ok(WithinStandardDocument, { programId: 'HA', ...RANGE })).dashboard.withinStandard).toBeNull();
  });

  it('judges each event of an all-programs answer by its own program, leaving out programs without one', async () => {
    const { t, record } = await setup();
    await t.ok(CreateProgramWithStandardDocument, {
      input: { id: 'TX', name: 'Taxes', resolutionStandardDays: 5 },
    });
    await record('HA', 20, 3); // within 30
    await record('TX', 20, 3); // not within 5
    await record('TX', 4, 3); // within 5
    await record('FB', 1, 3); // no standard: left out
    const { dashboard } = await t.ok(WithinStandardDocument, { programId: null, ...RANGE });
    expect(dashboard.resolvedCases).toBe(4);
    expect(dashboard.withinStandard).toBeCloseTo((100 * 2) / 3, 12);
    expect(dashboard.breakdown).toEqual([
      { value: 'HA', withinStandard: 100 },
      { value: 'TX', withinStandard: 50 },
      { value: 'FB', withinStandard: null },
    ]);
  });

  it('changes every past answer when the standard changes, and records the change in the audit log', async () => {
    const { t, record } = await setup();
    for (const [days, ago] of [
      [3, 25],
      [8, 15],
      [12, 5],
      [40, 1],
    ] as const)
      await record('HA', days, ago);
    await record('FB', 2, 1);
    const within = async (programId: string | null) =>
      (await t.ok(WithinStandardDocument, { programId, ...RANGE, granularity: 'DAY' })).dashboard;
    expect((await within('HA')).withinStandard).toBe(75);

    const { updateProgram } = await t.ok(UpdateProgramDocument, { id: 'HA', input: { resolutionStandardDays: 10 } });
    expect(updateProgram).toEqual({ id: 'HA', name: 'Housing', resolutionStandardDays: 10 });
    const ha = await within('HA');
    expect(ha.withinStandard).toBe(50);
    expect(ha.series.filter((p) => p.withinStandard !== null).map((p) => p.withinStandard)).toEqual([100, 100, 0, 0]);
    expect((await within(null)).withinStandard).toBe(50);

    // A standard for a program that had none counts its past events; removing one leaves them out.
    await t.ok(UpdateProgramDocument, { id: 'FB', input: { resolutionStandardDays: 1.5 } });
    expect((await within('FB')).withinStandard).toBe(0);
    expect((await within(null)).withinStandard).toBe(40);
    await t.ok(UpdateProgramDocument, { id: 'HA', input: { resolutionStandardDays: null, name: 'Housing help' } });
    expect((await within('HA')).withinStandard).toBeNull();
    expect((await within(null)).withinStandard).toBe(0);
    expect((await t.ok(ProgramStandardDocument, { id: 'HA' })).program).toEqual({
      id: 'HA',
      name: 'Housing help',
      resolutionStandardDays: null,
    });
    const { auditLog } = await t.ok(AuditLogDocument, { action: 'updateProgram' });
    expect(auditLog.map((e) => e.targetId)).toEqual(['HA', 'FB', 'HA']);
  });

  it('keeps the standard when only the name changes', async () => {
    const { t } = await setup();
    await t.ok(UpdateProgramDocument, { id: 'HA', input: { name: 'Renamed' } });
    expect((await t.ok(ProgramStandardDocument, { id: 'HA' })).program?.resolutionStandardDays).toBe(30);
  });

  it.each([
    ['negative', -1],
    ['over 36,500', 36_500.5],
  ])('refuses a standard that is %s, and changes nothing', async (_, days) => {
    const { t } = await setup();
    const created = onlyError(
      await t.run(CreateProgramWithStandardDocument, {
        input: { id: 'NEW', name: 'New', resolutionStandardDays: days },
      }),
    );
    expect(created.extensions?.code).toBe('BAD_USER_INPUT');
    expect(created.message).toContain('resolutionStandardDays');
    expect((await t.ok(ProgramStandardDocument, { id: 'NEW' })).program).toBeNull();
    const updated = onlyError(
      await t.run(UpdateProgramDocument, { id: 'HA', input: { resolutionStandardDays: days } }),
    );
    expect(updated.extensions?.code).toBe('BAD_USER_INPUT');
    expect(updated.message).toContain('input.resolutionStandardDays');
    expect((await t.ok(ProgramStandardDocument, { id: 'HA' })).program?.resolutionStandardDays).toBe(30);
  });

  it('refuses a standard that is not finite', async () => {
    const { t } = await setup();
    // JSON has no Infinity: a number too large for a double is how a client sends one.
    const response = await t.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-admin-key' },
      body: '{"query":"mutation { updateProgram(id: \\"HA\\", input: {resolutionStandardDays: 1e999}) { id } }"}',
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect((await t.ok(ProgramStandardDocument, { id: 'HA' })).program?.resolutionStandardDays).toBe(30);
  });

  it('lets only admins of the program change it', async () => {
    const { t } = await setup();
    const limited = await t.key('ADMIN', ['FB']);
    const other = onlyError(
      await t.run(UpdateProgramDocument, { id: 'HA', input: { resolutionStandardDays: 1 } }, limited),
    );
    expect(other.extensions?.code).toBe('FORBIDDEN');
    const viewer = await t.key('VIEWER');
    const read = onlyError(
      await t.run(UpdateProgramDocument, { id: 'FB', input: { resolutionStandardDays: 1 } }, viewer),
    );
    expect(read.extensions?.code).toBe('FORBIDDEN');
    expect((await t.ok(ProgramStandardDocument, { id: 'HA' })).program?.resolutionStandardDays).toBe(30);
    await t.ok(UpdateProgramDocument, { id: 'FB', input: { resolutionStandardDays: 2 } }, limited);
    const missing = onlyError(await t.run(UpdateProgramDocument, { id: 'NOPE', input: { name: 'x' } }));
    expect(missing.extensions?.code).toBe('NOT_FOUND');
  });
});
