/** Targets: set, replace, list, delete, their validation and who may touch them; dashboards carrying them. */
import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import {
  DashboardTargetsDocument,
  DeleteTargetDocument,
  ScorecardDocument,
  SetTargetDocument,
  TargetsDocument,
  type Kpi,
  type SetTargetInput,
} from './generated/operations.js';
import { onlyError, testApp } from './helpers/app.js';

const NOW = Date.parse('2026-03-15T12:00:00.000Z');
const Q = { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' };
const target = (kpi: Kpi, value: number, extra: Partial<SetTargetInput> = {}): SetTargetInput => ({
  programId: 'HA',
  kpi,
  value,
  ...Q,
  ...extra,
});

async function setup() {
  const t = await testApp({ now: () => NOW });
  await t.program('HA');
  await t.program('FB');
  return t;
}

describe('setTarget', () => {
  it('stores a target and lists it with the program', async () => {
    const t = await setup();
    const { setTarget } = await t.ok(SetTargetDocument, { input: target('AVG_RESOLUTION_TIME', 5) });
    expect(setTarget).toMatchObject({ programId: 'HA', kpi: 'AVG_RESOLUTION_TIME', value: 5, from: Q.from, to: Q.to });
    const { targets } = await t.ok(TargetsDocument, { programId: 'HA' });
    expect(targets).toEqual([setTarget]);
    expect((await t.ok(TargetsDocument, { programId: 'FB' })).targets).toEqual([]);
  });

  it('replaces the value when set again for the same program, KPI and period, and keeps other periods apart', async () => {
    const t = await setup();
    const first = (await t.ok(SetTargetDocument, { input: target('CSAT', 80) })).setTarget;
    const second = (await t.ok(SetTargetDocument, { input: target('CSAT', 85) })).setTarget;
    expect(second).toEqual({ ...first, value: 85 });
    const other = (await t.ok(SetTargetDocument, { input: target('CSAT', 90, { to: '2026-07-01T00:00:00Z' }) }))
      .setTarget;
    const { targets } = await t.ok(TargetsDocument, { programId: 'HA' });
    expect(targets.map((x) => [x.id, x.value])).toEqual([
      [first.id, 85],
      [other.id, 90],
    ]);
  });

  it('lists targets oldest period first, then in the Kpi enum order', async () => {
    const t = await setup();
    await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    await t.ok(SetTargetDocument, { input: target('AVG_RESOLUTION_TIME', 5) });
    await t.ok(SetTargetDocument, { input: target('TOTAL_CONFLICTS', 3, { from: '2025-10-01T00:00:00Z' }) });
    const { targets } = await t.ok(TargetsDocument, { programId: 'HA' });
    expect(targets.map((x) => x.kpi)).toEqual(['TOTAL_CONFLICTS', 'AVG_RESOLUTION_TIME', 'CSAT']);
  });

  const badCases: [string, SetTargetInput, string, string][] = [
    ['from equal to to', target('CSAT', 80, { to: Q.from }), 'from', 'from must be before to'],
    ['from after to', target('CSAT', 80, { from: Q.to, to: Q.from }), 'from', 'from must be before to'],
    ['a CSAT above 100', target('CSAT', 100.5), 'value', 'value must be between 0 and 100 for CSAT'],
    ['a CSAT below 0', target('CSAT', -1), 'value', 'value must be between 0 and 100 for CSAT'],
    [
      'a satisfaction above 5',
      target('AVG_SATISFACTION', 5.1),
      'value',
      'value must be between 1 and 5 for AVG_SATISFACTION',
    ],
    [
      'a satisfaction below 1',
      target('AVG_SATISFACTION', 0.9),
      'value',
      'value must be between 1 and 5 for AVG_SATISFACTION',
    ],
    [
      'a negative time',
      target('P90_RESOLUTION_TIME', -0.5),
      'value',
      'value must be between 0 and 36500 for P90_RESOLUTION_TIME',
    ],
    ['a negative count', target('TOTAL_CONFLICTS', -1), 'value', 'value must not be negative for TOTAL_CONFLICTS'],
    ['a negative rate', target('CONFLICT_RATE', -1), 'value', 'value must not be negative for CONFLICT_RATE'],
  ];
  for (const [name, input, field, message] of badCases) {
    it(`refuses ${name} with BAD_USER_INPUT naming ${field}, storing nothing`, async () => {
      const t = await setup();
      const error = onlyError(await t.run(SetTargetDocument, { input }));
      expect(error).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT', field } });
      expect((await t.ok(TargetsDocument, { programId: 'HA' })).targets).toEqual([]);
    });
  }

  it('refuses a non-finite value, storing nothing', async () => {
    const t = await setup();
    // JSON cannot carry Infinity, but a GraphQL literal can: 1e400 parses to it.
    const literal = parse(
      `mutation { setTarget(input: { programId: "HA", kpi: CONFLICT_RATE, from: "${Q.from}", to: "${Q.to}", value: 1e400 }) { id } }`,
    ) as TypedDocumentNode<unknown, Record<string, never>>;
    const error = onlyError(await t.run(literal, {}));
    expect(error).toMatchObject({
      message: 'value must be a finite number',
      extensions: { code: 'BAD_USER_INPUT', field: 'value' },
    });
    expect((await t.ok(TargetsDocument, { programId: 'HA' })).targets).toEqual([]);
  });

  it('refuses an unknown program with NOT_FOUND', async () => {
    const t = await setup();
    const error = onlyError(await t.run(SetTargetDocument, { input: target('CSAT', 80, { programId: 'NOPE' }) }));
    expect(error.extensions?.code).toBe('NOT_FOUND');
  });

  it('lets only ADMIN set targets, and only for programs its key reaches', async () => {
    const t = await setup();
    for (const role of ['VIEWER', 'INTEGRATION'] as const) {
      const key = await t.key(role);
      expect(onlyError(await t.run(SetTargetDocument, { input: target('CSAT', 80) }, key)).extensions?.code).toBe(
        'FORBIDDEN',
      );
    }
    const fbAdmin = await t.key('ADMIN', ['FB']);
    expect(onlyError(await t.run(SetTargetDocument, { input: target('CSAT', 80) }, fbAdmin)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    expect((await t.ok(TargetsDocument, { programId: 'HA' })).targets).toEqual([]);
  });
});

describe('deleteTarget', () => {
  it('deletes a target, after which its scorecard row has NO_TARGET', async () => {
    const t = await setup();
    const { setTarget } = await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    expect((await t.ok(DeleteTargetDocument, { id: setTarget.id })).deleteTarget).toBe(true);
    expect((await t.ok(TargetsDocument, { programId: 'HA' })).targets).toEqual([]);
    const { scorecard } = await t.ok(ScorecardDocument, { programId: 'HA', ...Q });
    expect(scorecard.rows.find((r) => r.kpi === 'CSAT')).toMatchObject({ target: null, status: 'NO_TARGET' });
  });

  it('answers NOT_FOUND for an unknown target or to an admin of another program, and FORBIDDEN to a viewer', async () => {
    const t = await setup();
    const { setTarget } = await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    expect(onlyError(await t.run(DeleteTargetDocument, { id: 'nope' })).extensions?.code).toBe('NOT_FOUND');
    const viewer = await t.key('VIEWER');
    expect(onlyError(await t.run(DeleteTargetDocument, { id: setTarget.id }, viewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    // An id of a program the key may not see is unknown to it (issue 17, hole 6; test/opaque-ids.test.ts).
    const fbAdmin = await t.key('ADMIN', ['FB']);
    expect(onlyError(await t.run(DeleteTargetDocument, { id: setTarget.id }, fbAdmin)).extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect((await t.ok(TargetsDocument, { programId: 'HA' })).targets).toHaveLength(1);
  });
});

describe('reading targets', () => {
  it("lets a viewer read its programs' targets and scorecards, and no other program's", async () => {
    const t = await setup();
    await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    await t.ok(SetTargetDocument, { input: target('CSAT', 70, { programId: 'FB' }) });
    const viewer = await t.key('VIEWER', ['HA']);
    expect((await t.ok(TargetsDocument, { programId: 'HA' }, viewer)).targets).toHaveLength(1);
    expect((await t.ok(ScorecardDocument, { programId: 'HA', ...Q }, viewer)).scorecard.programId).toBe('HA');
    const targets = await t.run(TargetsDocument, { programId: 'FB' }, viewer);
    expect(onlyError(targets).extensions?.code).toBe('FORBIDDEN');
    expect(targets.data?.targets ?? null).toBeNull();
    expect(onlyError(await t.run(ScorecardDocument, { programId: 'FB', ...Q }, viewer)).extensions?.code).toBe(
      'FORBIDDEN',
    );
    const integration = await t.key('INTEGRATION');
    expect(onlyError(await t.run(TargetsDocument, { programId: 'HA' }, integration)).extensions?.code).toBe(
      'FORBIDDEN',
    );
  });

  it('answers NOT_FOUND for the targets of an unknown program', async () => {
    const t = await setup();
    expect(onlyError(await t.run(TargetsDocument, { programId: 'NOPE' })).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('dashboard targets', () => {
  it("carries the targets set for exactly the dashboard's range, and none for another range", async () => {
    const t = await setup();
    await t.ok(SetTargetDocument, { input: target('AVG_RESOLUTION_TIME', 5) });
    await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    await t.ok(SetTargetDocument, { input: target('CSAT', 90, { to: '2026-03-01T00:00:00Z' }) });
    const exact = (await t.ok(DashboardTargetsDocument, { programId: 'HA', ...Q })).dashboard;
    expect(exact.targets.map((x) => [x.kpi, x.value])).toEqual([
      ['AVG_RESOLUTION_TIME', 5],
      ['CSAT', 80],
    ]);
    const other = (await t.ok(DashboardTargetsDocument, { programId: 'HA', from: Q.from, to: '2026-03-31T00:00:00Z' }))
      .dashboard;
    expect(other.targets).toEqual([]);
    const open = (await t.ok(DashboardTargetsDocument, { programId: 'HA', from: Q.from })).dashboard;
    expect(open.targets).toEqual([]);
  });

  it('shows on an all-programs dashboard only the targets of programs the key may see', async () => {
    const t = await setup();
    await t.ok(SetTargetDocument, { input: target('CSAT', 80) });
    await t.ok(SetTargetDocument, { input: target('CSAT', 70, { programId: 'FB' }) });
    const all = (await t.ok(DashboardTargetsDocument, { ...Q })).dashboard;
    expect(all.targets.map((x) => x.programId)).toEqual(['FB', 'HA']);
    const viewer = await t.key('VIEWER', ['HA']);
    const mine = (await t.ok(DashboardTargetsDocument, { ...Q }, viewer)).dashboard;
    expect(mine.targets.map((x) => [x.programId, x.value])).toEqual([['HA', 80]]);
  });
});
