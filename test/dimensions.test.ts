/** Dimensions and attributes (issue 18): declaring, recording, every rule, the maxValues bound, idempotency. */
import { describe, expect, it } from 'vitest';
import {
  AddDimensionDocument,
  CreateProgramWithDimensionsDocument,
  EventAttributesDocument,
  ProgramDimensionsDocument,
  RecordAttributedDocument,
  RecordConflictAttributedDocument,
  RecordEventsDocument,
  RecordSatisfactionAttributedDocument,
  type EventInput,
} from './generated/operations.js';
import { onlyError, testApp, type Result, type TestApp } from './helpers/app.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');

async function setup(maxValues?: number) {
  const t = await testApp({ now: () => NOW });
  await t.ok(CreateProgramWithDimensionsDocument, {
    input: {
      id: 'HA',
      name: 'Housing',
      dimensions: [
        { key: 'office', label: 'Office', ...(maxValues ? { maxValues } : {}) },
        { key: 'channel', label: 'Channel' },
      ],
    },
  });
  return t;
}

async function count(t: TestApp, table: 'events' | 'dimension_values' | 'dimensions'): Promise<number> {
  const row = await t.app.services.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function expectBadInput(result: Result<unknown>, field: string, rule: RegExp | string) {
  const error = onlyError(result);
  expect(error.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error.extensions?.field).toBe(field);
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  if (typeof rule === 'string') expect(error.message).toContain(rule);
  else expect(error.message).toMatch(rule);
}

const event = (i: number, attributes: { key: string; value: string }[]): EventInput => ({
  kind: 'RESOLUTION_TIME',
  programId: 'HA',
  caseId: `c${i}`,
  value: 1 + (i % 10),
  attributes,
});

describe('declaring dimensions', () => {
  it('creates a program with dimensions, and shows the values seen, sorted', async () => {
    const t = await setup();
    const before = await t.ok(ProgramDimensionsDocument, { id: 'HA' });
    expect(before.program?.dimensions).toEqual([
      { key: 'office', label: 'Office', maxValues: 1000, values: [] },
      { key: 'channel', label: 'Channel', maxValues: 1000, values: [] },
    ]);
    for (const office of ['North', 'East', 'North'])
      await t.ok(RecordAttributedDocument, {
        input: { programId: 'HA', caseId: office, days: 2, attributes: [{ key: 'office', value: office }] },
      });
    const after = await t.ok(ProgramDimensionsDocument, { id: 'HA' });
    expect(after.program?.dimensions[0].values).toEqual(['East', 'North']);
    expect(after.program?.dimensions[1].values).toEqual([]);
  });

  it('adds a dimension later, after those declared', async () => {
    const t = await setup();
    const { addDimension } = await t.ok(AddDimensionDocument, {
      programId: 'HA',
      input: { key: 'case_type', label: 'Case type', maxValues: 20 },
    });
    expect(addDimension.dimensions.map((d) => [d.key, d.maxValues])).toEqual([
      ['office', 1000],
      ['channel', 1000],
      ['case_type', 20],
    ]);
    await t.ok(RecordAttributedDocument, {
      input: { programId: 'HA', caseId: 'x', days: 1, attributes: [{ key: 'case_type', value: 'eviction' }] },
    });
  });

  const badDimensions: [string, { key: string; label: string; maxValues?: number }, string, string][] = [
    ['a key with an upper-case letter', { key: 'Office', label: 'x' }, 'input.key', 'must be 1 to 32 of a-z'],
    ['a key starting with a digit', { key: '1office', label: 'x' }, 'input.key', 'starting with a letter'],
    ['a key of 33 characters', { key: `a${'b'.repeat(32)}`, label: 'x' }, 'input.key', 'must be 1 to 32'],
    ['the reserved key program', { key: 'program', label: 'x' }, 'input.key', '"program" is reserved'],
    ['a key already declared', { key: 'office', label: 'x' }, 'input.key', 'already a dimension'],
    ['an empty label', { key: 'region', label: '  ' }, 'input.label', 'must be 1 to 200 characters'],
    ['maxValues 0', { key: 'region', label: 'x', maxValues: 0 }, 'input.maxValues', 'from 1 to 10000'],
    ['maxValues 10,001', { key: 'region', label: 'x', maxValues: 10_001 }, 'input.maxValues', 'from 1 to 10000'],
  ];
  for (const [name, input, field, rule] of badDimensions) {
    it(`refuses ${name} with BAD_USER_INPUT naming ${field}, and stores nothing`, async () => {
      const t = await setup();
      expectBadInput(await t.run(AddDimensionDocument, { programId: 'HA', input }), field, rule);
      expect(await count(t, 'dimensions')).toBe(2);
    });
  }

  it('names the index of a bad dimension at creation, and creates nothing', async () => {
    const t = await testApp();
    const result = await t.run(CreateProgramWithDimensionsDocument, {
      input: {
        id: 'HB',
        name: 'B',
        dimensions: [
          { key: 'office', label: 'Office' },
          { key: 'office', label: 'Again' },
        ],
      },
    });
    expectBadInput(result, 'dimensions[1].key', 'already a dimension');
    expect(await t.ok(ProgramDimensionsDocument, { id: 'HB' })).toEqual({ program: null });
    expect(await count(t, 'dimensions')).toBe(0);
  });

  it('lets only admins add dimensions', async () => {
    const t = await setup();
    const viewer = await t.key('VIEWER');
    const result = await t.run(AddDimensionDocument, { programId: 'HA', input: { key: 'r', label: 'R' } }, viewer);
    expect(onlyError(result).extensions?.code).toBe('FORBIDDEN');
    expect(await count(t, 'dimensions')).toBe(2);
  });
});

describe('recording attributes', () => {
  it('stores attributes on every kind and reads them back in the order given', async () => {
    const t = await setup();
    const attributes = [
      { key: 'office', value: 'North' },
      { key: 'channel', value: 'web' },
    ];
    const r = await t.ok(RecordAttributedDocument, { input: { programId: 'HA', caseId: 'a', days: 3, attributes } });
    const s = await t.ok(RecordSatisfactionAttributedDocument, {
      input: { programId: 'HA', caseId: 'a', score: 4, attributes },
    });
    const c = await t.ok(RecordConflictAttributedDocument, { input: { programId: 'HA', caseId: 'a', attributes } });
    for (const id of [r.recordResolutionTime.event.id, s.recordSatisfaction.event.id, c.recordConflict.event.id]) {
      expect((await t.ok(EventAttributesDocument, { id })).event?.attributes).toEqual(attributes);
    }
    const batch = await t.ok(RecordEventsDocument, { events: [event(1, attributes), event(2, [])] });
    expect(batch.recordEvents.accepted).toBe(2);
    expect(r.recordResolutionTime.event.attributes).toEqual(attributes);
  });

  const bad: [string, { key: string; value: string }[], string, string][] = [
    ['an undeclared key', [{ key: 'region', value: 'x' }], 'attributes[0].key', '"region" is not a dimension'],
    [
      'a repeated key',
      [
        { key: 'office', value: 'a' },
        { key: 'office', value: 'b' },
      ],
      'attributes[1].key',
      'more than once',
    ],
    ['a malformed key', [{ key: 'Office', value: 'a' }], 'attributes[0].key', 'must be 1 to 32'],
    ['an empty value', [{ key: 'office', value: '' }], 'attributes[0].value', 'must be 1 to 128 characters'],
    [
      'a value of 129 characters',
      [{ key: 'office', value: 'x'.repeat(129) }],
      'attributes[0].value',
      'must be 1 to 128 characters',
    ],
    [
      'a value with a control character',
      [
        { key: 'channel', value: 'web' },
        { key: 'office', value: 'a\u0007b' },
      ],
      'attributes[1].value',
      'printable',
    ],
    ['nine attributes', Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: 'v' })), 'attributes', 'at most 8'],
  ];
  for (const [name, attributes, field, rule] of bad) {
    it(`refuses ${name} in a single record, naming ${field}, and stores nothing`, async () => {
      const t = await setup();
      expectBadInput(
        await t.run(RecordAttributedDocument, { input: { programId: 'HA', caseId: 'a', days: 1, attributes } }),
        field,
        rule,
      );
      expect(await count(t, 'events')).toBe(0);
    });
    it(`refuses ${name} in a batch, naming events[7].${field}, and stores nothing`, async () => {
      const t = await setup();
      const events = Array.from({ length: 10 }, (_, i) =>
        event(i, i === 7 ? attributes : [{ key: 'office', value: 'ok' }]),
      );
      expectBadInput(await t.run(RecordEventsDocument, { events }), `events[7].${field}`, rule);
      expect(await count(t, 'events')).toBe(0);
      expect(await count(t, 'dimension_values')).toBe(0);
    });
  }
});

describe('the maxValues bound', () => {
  it('refuses the 1,001st value of a dimension in a single record, naming the dimension and its limit', async () => {
    const t = await setup();
    const fill = Array.from({ length: 1000 }, (_, i) => event(i, [{ key: 'office', value: `office-${i}` }]));
    expect((await t.ok(RecordEventsDocument, { events: fill })).recordEvents.accepted).toBe(1000);
    // A value already taken is still fine.
    await t.ok(RecordAttributedDocument, {
      input: { programId: 'HA', caseId: 'old', days: 1, attributes: [{ key: 'office', value: 'office-7' }] },
    });
    const result = await t.run(RecordAttributedDocument, {
      input: {
        programId: 'HA',
        caseId: 'new',
        days: 1,
        attributes: [
          { key: 'channel', value: 'web' },
          { key: 'office', value: 'office-1000' },
        ],
      },
    });
    expectBadInput(result, 'attributes[1].value', /dimension "office", past its limit of 1000 values/);
    expect(await count(t, 'events')).toBe(1001);
    expect(await count(t, 'dimension_values')).toBe(1000);
    const program = await t.ok(ProgramDimensionsDocument, { id: 'HA' });
    expect(program.program?.dimensions[1].values).toEqual([]);
  });

  it('refuses a batch of 10,000 whose event 5,000 brings the 1,001st value, and stores nothing of it', async () => {
    const t = await setup();
    const events = Array.from({ length: 10_000 }, (_, i) =>
      event(i, [
        { key: 'channel', value: `ch-${i % 3}` },
        { key: 'office', value: i === 5000 ? 'one-too-many' : `office-${i % 1000}` },
      ]),
    );
    expectBadInput(
      await t.run(RecordEventsDocument, { events }),
      'events[5000].attributes[1].value',
      /"one-too-many" would be value 1001 of dimension "office", past its limit of 1000 values/,
    );
    expect(await count(t, 'events')).toBe(0);
    expect(await count(t, 'dimension_values')).toBe(0);
    // Without it, the same batch is taken whole.
    events[5000] = event(5000, [{ key: 'office', value: 'office-0' }]);
    expect((await t.ok(RecordEventsDocument, { events })).recordEvents.accepted).toBe(10_000);
    expect(await count(t, 'dimension_values')).toBe(1003);
  });

  it('counts values across mutations that share a commit', async () => {
    const t = await setup(2);
    const offices = ['a', 'b', 'c', 'a'];
    const results = await Promise.all(
      offices.map((office, i) =>
        t.run(RecordAttributedDocument, {
          input: { programId: 'HA', caseId: `c${i}`, days: 1, attributes: [{ key: 'office', value: office }] },
        }),
      ),
    );
    // Which two values come first depends on the order the writes arrive in (on PostgreSQL they
    // may reach the writer in another order than sent): a, b or a, c refuse one mutation, b, c the two of a.
    const values = (await t.ok(ProgramDimensionsDocument, { id: 'HA' })).program?.dimensions[0].values ?? [];
    expect(values).toHaveLength(2);
    const refused = offices.filter((_, i) => results[i].errors);
    expect(refused.length).toBeGreaterThan(0);
    // The refusals' messages, so that a failure says what else was refused, and why.
    for (const [i, result] of results.entries())
      if (result.errors) expect(onlyError(result).message).toContain('past its limit of 2 values');
      else expect(values).toContain(offices[i]);
    for (const office of refused) expect(values).not.toContain(office);
    expect(await count(t, 'events')).toBe(offices.length - refused.length);
  });
});

describe('attributes and idempotency', () => {
  it('takes the same attributes in another order as the same payload, and others as a conflict', async () => {
    const t = await setup();
    const input = (attributes: { key: string; value: string }[]) => ({
      programId: 'HA',
      caseId: 'a',
      days: 2,
      idempotencyKey: 'k1',
      attributes,
    });
    const first = await t.ok(RecordAttributedDocument, {
      input: input([
        { key: 'office', value: 'N' },
        { key: 'channel', value: 'web' },
      ]),
    });
    const again = await t.ok(RecordAttributedDocument, {
      input: input([
        { key: 'channel', value: 'web' },
        { key: 'office', value: 'N' },
      ]),
    });
    expect(again.recordResolutionTime).toMatchObject({
      duplicate: true,
      event: { id: first.recordResolutionTime.event.id },
    });
    const other = await t.run(RecordAttributedDocument, { input: input([{ key: 'office', value: 'N' }]) });
    expect(onlyError(other).extensions?.code).toBe('CONFLICT');
    const none = await t.run(RecordAttributedDocument, { input: input([]) });
    expect(onlyError(none).extensions?.code).toBe('CONFLICT');
    expect(await count(t, 'events')).toBe(1);
  });
});
