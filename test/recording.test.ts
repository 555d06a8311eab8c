/** Recording events: every contract rule, idempotency, batches, retraction and late events. */
import { CompiledQuery, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  DashboardDocument,
  EventDocument,
  RecordConflictDocument,
  RecordEventsDocument,
  RecordResolutionTimeDocument,
  RecordSatisfactionDocument,
  RetractEventDocument,
  type EventInput,
} from './generated/operations.js';
import { iso, onlyError, testApp, testDialect, type Result, type TestApp } from './helpers/app.js';

const NOW = Date.parse('2026-11-26T12:00:00.000Z');

async function storedEvents(t: TestApp): Promise<number> {
  const row = await t.app.services.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function setup() {
  const t = await testApp({ now: () => NOW });
  await t.program('HA');
  return t;
}

describe('recording a single event', () => {
  it('stores a resolution time and returns it with recordedAt and a defaulted occurredAt', async () => {
    const t = await setup();
    const { recordResolutionTime } = await t.ok(RecordResolutionTimeDocument, {
      input: { programId: 'HA', caseId: 'HA-001', days: 5 },
    });
    expect(recordResolutionTime.duplicate).toBe(false);
    expect(recordResolutionTime.event).toMatchObject({
      kind: 'RESOLUTION_TIME',
      programId: 'HA',
      caseId: 'HA-001',
      value: 5,
      occurredAt: iso(NOW),
      recordedAt: iso(NOW),
      retractedAt: null,
    });
  });

  it('stores a conflict with its reason and a null value', async () => {
    const t = await setup();
    const { recordConflict } = await t.ok(RecordConflictDocument, {
      input: { programId: 'HA', caseId: 'HA-002', reason: 'escalated to supervisor' },
    });
    expect(recordConflict.event).toMatchObject({ kind: 'CONFLICT', value: null, reason: 'escalated to supervisor' });
  });

  it('accepts fractional satisfaction scores', async () => {
    const t = await setup();
    const { recordSatisfaction } = await t.ok(RecordSatisfactionDocument, {
      input: { programId: 'HA', caseId: 'c', score: 4.2 },
    });
    expect(recordSatisfaction.event.value).toBe(4.2);
  });

  const badSingles: [string, (t: TestApp) => Promise<Result<unknown>>, string][] = [
    [
      'days below 0',
      (t) => t.run(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'c', days: -1 } }),
      'days must be between 0 and 36500',
    ],
    [
      'days above 36,500',
      (t) => t.run(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'c', days: 36500.5 } }),
      'days must be between 0 and 36500',
    ],
    [
      'score below 1',
      (t) => t.run(RecordSatisfactionDocument, { input: { programId: 'HA', caseId: 'c', score: 0.5 } }),
      'score must be between 1 and 5',
    ],
    [
      'score above 5',
      (t) => t.run(RecordSatisfactionDocument, { input: { programId: 'HA', caseId: 'c', score: 5.01 } }),
      'score must be between 1 and 5',
    ],
    [
      'an empty caseId',
      (t) => t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: '' } }),
      'caseId must be 1 to 128 characters',
    ],
    [
      'a caseId of 129 characters',
      (t) => t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: 'x'.repeat(129) } }),
      'caseId must be 1 to 128 characters',
    ],
    [
      'a caseId with a control character',
      (t) => t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: 'a\u0007b' } }),
      'caseId must contain only printable characters',
    ],
    [
      'occurredAt more than 5 minutes ahead',
      (t) =>
        t.run(RecordConflictDocument, {
          input: { programId: 'HA', caseId: 'c', occurredAt: iso(NOW + 5 * 60_000 + 1) },
        }),
      'occurredAt must be at most 5 minutes in the future',
    ],
    [
      'an empty idempotencyKey',
      (t) => t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c', idempotencyKey: '' } }),
      'idempotencyKey must be 1 to 255 characters',
    ],
    [
      'an idempotencyKey of 256 characters',
      (t) =>
        t.run(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c', idempotencyKey: 'k'.repeat(256) } }),
      'idempotencyKey must be 1 to 255 characters',
    ],
  ];

  for (const [name, call, message] of badSingles) {
    it(`refuses ${name} with BAD_USER_INPUT and stores nothing`, async () => {
      const t = await setup();
      const error = onlyError(await call(t));
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toBe(message);
      expect(await storedEvents(t)).toBe(0);
    });
  }

  it('accepts occurredAt exactly 5 minutes ahead and any time in the past', async () => {
    const t = await setup();
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c', occurredAt: iso(NOW + 5 * 60_000) } });
    await t.ok(RecordConflictDocument, {
      input: { programId: 'HA', caseId: 'c', occurredAt: '1999-01-01T00:00:00-05:00' },
    });
    expect(await storedEvents(t)).toBe(2);
  });

  it('refuses a date-time without an offset', async () => {
    const t = await setup();
    const result = await t.run(RecordConflictDocument, {
      input: { programId: 'HA', caseId: 'c', occurredAt: '2026-01-01T00:00:00' },
    });
    expect(result.errors?.[0].message).toMatch(/offset/);
    expect(await storedEvents(t)).toBe(0);
  });

  it('refuses an unknown program with NOT_FOUND', async () => {
    const t = await setup();
    const error = onlyError(
      await t.run(RecordResolutionTimeDocument, { input: { programId: 'NOPE', caseId: 'c', days: 1 } }),
    );
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect(error.message).toContain('NOPE');
  });
});

describe('idempotency keys', () => {
  it('returns the first event with duplicate: true for a retry with the same payload, storing nothing new', async () => {
    const t = await setup();
    const input = { programId: 'HA', caseId: 'HA-001', days: 5, idempotencyKey: 'req-1' };
    const first = await t.ok(RecordResolutionTimeDocument, { input });
    const again = await t.ok(RecordResolutionTimeDocument, { input });
    expect(again.recordResolutionTime.duplicate).toBe(true);
    expect(again.recordResolutionTime.event.id).toBe(first.recordResolutionTime.event.id);
    expect(await storedEvents(t)).toBe(1);
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(1);
  });

  it('fails with CONFLICT when the key comes back with a different payload', async () => {
    const t = await setup();
    await t.ok(RecordResolutionTimeDocument, {
      input: { programId: 'HA', caseId: 'HA-001', days: 5, idempotencyKey: 'req-1' },
    });
    const error = onlyError(
      await t.run(RecordResolutionTimeDocument, {
        input: { programId: 'HA', caseId: 'HA-001', days: 6, idempotencyKey: 'req-1' },
      }),
    );
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(await storedEvents(t)).toBe(1);
  });

  it('keeps keys per program: the same key in two programs stores two events', async () => {
    const t = await setup();
    await t.program('CW');
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c', idempotencyKey: 'k' } });
    const other = await t.ok(RecordConflictDocument, { input: { programId: 'CW', caseId: 'c', idempotencyKey: 'k' } });
    expect(other.recordConflict.duplicate).toBe(false);
    expect(await storedEvents(t)).toBe(2);
  });

  it('treats concurrent retries of one key as one event', async () => {
    const t = await setup();
    const input = { programId: 'HA', caseId: 'c', score: 4, idempotencyKey: 'burst' };
    const results = await Promise.all(Array.from({ length: 10 }, () => t.ok(RecordSatisfactionDocument, { input })));
    expect(new Set(results.map((r) => r.recordSatisfaction.event.id)).size).toBe(1);
    expect(results.filter((r) => !r.recordSatisfaction.duplicate)).toHaveLength(1);
    expect(await storedEvents(t)).toBe(1);
  });
  it('is kept by the database too: a second event with a stored key in the same program is refused, events without keys are not', async () => {
    const t = await setup();
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c', idempotencyKey: 'k' } });
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'c' } });
    const { db } = t.app.services;
    const row = await db.selectFrom('events').selectAll().where('idempotency_key', '=', 'k').executeTakeFirstOrThrow();

    await expect(
      db
        .insertInto('events')
        .values({ ...row, id: row.id + 100 })
        .execute(),
    ).rejects.toThrow(/unique|duplicate/i);
    await db
      .insertInto('events')
      .values({ ...row, id: row.id + 101, idempotency_key: null, payload_hash: null })
      .execute();
    expect(await storedEvents(t)).toBe(3);
  });

  it.runIf(testDialect === 'sqlite')('are looked up through the index, which holds keyed events only', async () => {
    const t = await setup();
    const { db } = t.app.services;
    const lookup = db
      .selectFrom('events')
      .selectAll()
      .where('program_id', '=', 'HA')
      .where('idempotency_key', 'in', ['a', 'b'])
      .compile();
    const plan = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${lookup.sql}`, [...lookup.parameters]),
    );
    expect(plan.rows.map((r) => r.detail).join('; ')).toMatch(/USING INDEX events_program_idempotency/);
    const index = await sql<{
      sql: string;
    }>`select sql from sqlite_master where name = 'events_program_idempotency'`.execute(db);
    expect(index.rows[0].sql).toMatch(/where\s+"?idempotency_key"?\s+is not null/i);
  });
});

describe('recordEvents', () => {
  const resolution = (i: number): EventInput => ({
    kind: 'RESOLUTION_TIME',
    programId: 'HA',
    caseId: `C-${i}`,
    value: (i % 30) + 1,
  });

  it('stores 10,000 events in one call', async () => {
    const t = await setup();
    const events = Array.from({ length: 10_000 }, (_, i) => resolution(i));
    const { recordEvents } = await t.ok(RecordEventsDocument, { events });
    expect(recordEvents).toEqual({ accepted: 10_000, duplicates: 0 });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(10_000);
  });

  it('refuses the whole batch when one event of 10,000 is bad, naming its index, and stores nothing', async () => {
    const t = await setup();
    const events = Array.from({ length: 10_000 }, (_, i) => resolution(i));
    events[7_321] = { kind: 'SATISFACTION', programId: 'HA', caseId: 'x', value: 9 };
    const error = onlyError(await t.run(RecordEventsDocument, { events }));
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe('events[7321].value: value must be between 1 and 5');
    expect(await storedEvents(t)).toBe(0);
  });

  it('refuses more than 10,000 events', async () => {
    const t = await setup();
    const events = Array.from({ length: 10_001 }, (_, i) => resolution(i));
    const error = onlyError(await t.run(RecordEventsDocument, { events }));
    expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(/events must hold at most 10000 events/);
    expect(await storedEvents(t)).toBe(0);
  });

  it.each([
    [
      { kind: 'RESOLUTION_TIME', programId: 'HA', caseId: 'x' },
      'events[1].value: value is required for RESOLUTION_TIME',
    ],
    [
      { kind: 'SATISFACTION', programId: 'HA', caseId: 'x', value: null },
      'events[1].value: value is required for SATISFACTION',
    ],
    [{ kind: 'CONFLICT', programId: 'HA', caseId: 'x', value: 3 }, 'events[1].value: value must be null for CONFLICT'],
  ] as [EventInput, string][])('applies the value rule of each kind: %j', async (bad, message) => {
    const t = await setup();
    const error = onlyError(await t.run(RecordEventsDocument, { events: [resolution(0), bad] }));
    expect(error.message).toBe(message);
    expect(await storedEvents(t)).toBe(0);
  });

  it('names the index of an event with an unknown program and stores nothing', async () => {
    const t = await setup();
    const error = onlyError(
      await t.run(RecordEventsDocument, { events: [resolution(0), { ...resolution(1), programId: 'NOPE' }] }),
    );
    expect(error.extensions?.code).toBe('NOT_FOUND');
    expect(error.message).toContain('events[1].programId');
    expect(await storedEvents(t)).toBe(0);
  });

  it('counts duplicates by idempotency key, within the batch and against stored events', async () => {
    const t = await setup();
    await t.ok(RecordEventsDocument, { events: [{ ...resolution(1), idempotencyKey: 'a' }] });
    const { recordEvents } = await t.ok(RecordEventsDocument, {
      events: [
        { ...resolution(1), idempotencyKey: 'a' },
        { ...resolution(2), idempotencyKey: 'b' },
        { ...resolution(2), idempotencyKey: 'b' },
        resolution(3),
      ],
    });
    expect(recordEvents).toEqual({ accepted: 2, duplicates: 2 });
    expect(await storedEvents(t)).toBe(3);
  });

  it('fails the whole batch with CONFLICT when a key is reused with another payload', async () => {
    const t = await setup();
    await t.ok(RecordEventsDocument, { events: [{ ...resolution(1), idempotencyKey: 'a' }] });
    const error = onlyError(
      await t.run(RecordEventsDocument, { events: [resolution(5), { ...resolution(2), idempotencyKey: 'a' }] }),
    );
    expect(error.extensions?.code).toBe('CONFLICT');
    expect(error.message).toContain('events[1]');
    expect(await storedEvents(t)).toBe(1);
  });
});

describe('retractEvent', () => {
  it("removes the event's contribution from every KPI and keeps it readable with retractedAt", async () => {
    const t = await setup();
    const a = await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'a', days: 2 } });
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'b', days: 10 } });
    const id = a.recordResolutionTime.event.id;
    const { retractEvent } = await t.ok(RetractEventDocument, { id });
    expect(retractEvent.retractedAt).toBe(iso(NOW));
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard).toMatchObject({ resolvedCases: 1, avgResolutionTime: 10, medianResolutionTime: 10 });
    const { event } = await t.ok(EventDocument, { id });
    expect(event?.retractedAt).toBe(iso(NOW));
  });

  it('is idempotent: retracting twice subtracts once', async () => {
    const t = await setup();
    const a = await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'a' } });
    await t.ok(RecordConflictDocument, { input: { programId: 'HA', caseId: 'b' } });
    await t.ok(RetractEventDocument, { id: a.recordConflict.event.id });
    await t.ok(RetractEventDocument, { id: a.recordConflict.event.id });
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.totalConflicts).toBe(1);
  });

  it('answers NOT_FOUND for an unknown event id', async () => {
    const t = await setup();
    expect(onlyError(await t.run(RetractEventDocument, { id: '999' })).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(await t.run(RetractEventDocument, { id: 'not-a-number' })).extensions?.code).toBe('NOT_FOUND');
  });
});

describe('late events', () => {
  it('count in the range that covers their occurredAt, whenever they arrive', async () => {
    const t = await setup();
    const from = '2026-01-01T00:00:00.000Z';
    const to = '2026-02-01T00:00:00.000Z';
    await t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'a', days: 4 } });
    const before = await t.ok(DashboardDocument, { programId: 'HA', from, to });
    expect(before.dashboard.resolvedCases).toBe(0);
    await t.ok(RecordResolutionTimeDocument, {
      input: { programId: 'HA', caseId: 'late', days: 8, occurredAt: '2026-01-15T10:00:00Z' },
    });
    const after = await t.ok(DashboardDocument, { programId: 'HA', from, to });
    expect(after.dashboard).toMatchObject({ resolvedCases: 1, avgResolutionTime: 8 });
  });
});
