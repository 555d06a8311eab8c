/**
 * Group commit: single mutations that arrive together share one transaction, none is answered
 * before its commit, and one bad neighbour never fails the others.
 */
import SQLite from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../src/config.js';
import { LOCAL_COMMIT_MAX_EVENTS, SqliteFileWriter } from '../src/write/event-writer.js';
import type { ValidEvent } from '../src/events/validate.js';
import { DashboardDocument, RecordResolutionTimeDocument } from './generated/operations.js';
import { onlyError, testApp } from './helpers/app.js';

const SQLITE = process.env.TEST_DB !== 'postgres';

const resolution = (caseId: string, extra: Partial<ValidEvent> = {}): ValidEvent => ({
  kind: 'RESOLUTION_TIME',
  programId: 'HA',
  caseId,
  value: 3,
  reason: null,
  occurredAt: Date.UTC(2026, 0, 5),
  occurredAtGiven: true,
  idempotencyKey: null,
  ...extra,
});

describe('group commit', () => {
  it('writes single mutations queued together in one transaction', async () => {
    const t = await testApp();
    await t.program('HA');
    const { recorder } = t.app.services;
    const before = recorder.commits;

    const outcomes = await Promise.all(
      Array.from({ length: 25 }, (_, i) => recorder.record([resolution(`C-${i}`)], { keyId: null })),
    );

    expect(outcomes.every((o) => o.accepted === 1)).toBe(true);
    expect(recorder.commits - before).toBe(1);
  });

  it('shares commits between concurrent mutations over GraphQL', async () => {
    const t = await testApp();
    await t.program('HA');
    const { recorder } = t.app.services;
    const before = recorder.commits;

    const n = 30;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: `C-${i}`, days: 2 } }),
      ),
    );

    expect(results).toHaveLength(n);
    expect(recorder.commits - before).toBeLessThan(n);
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(n);
  });

  it.runIf(SQLITE)('answers each mutation only once its event is committed', async () => {
    const t = await testApp();
    await t.program('HA');
    // A second connection sees committed data only; it is read synchronously the moment each answer arrives.
    const reader = new SQLite(t.config.databaseUrl, { readonly: true });
    onTestFinished(() => {
      reader.close();
    });
    const stored = reader.prepare('select count(*) as n from events where id = ?');
    const seenAtAnswer: number[] = [];

    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.ok(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: `C-${i}`, days: 1 } }).then((data) => {
          seenAtAnswer.push((stored.get(Number(data.recordResolutionTime.event.id)) as { n: number }).n);
        }),
      ),
    );

    expect(seenAtAnswer).toEqual(Array(20).fill(1));
  });

  it('fails only the mutation that reuses an idempotency key with another payload', async () => {
    const t = await testApp();
    await t.program('HA');
    await t.ok(RecordResolutionTimeDocument, {
      input: { programId: 'HA', caseId: 'FIRST', days: 4, idempotencyKey: 'k-1' },
    });

    const good = Array.from({ length: 10 }, (_, i) =>
      t.run(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: `C-${i}`, days: 2 } }),
    );
    const reused = t.run(RecordResolutionTimeDocument, {
      input: { programId: 'HA', caseId: 'OTHER', days: 9, idempotencyKey: 'k-1' },
    });
    const unknown = t.run(RecordResolutionTimeDocument, { input: { programId: 'NOPE', caseId: 'X', days: 2 } });
    const invalid = t.run(RecordResolutionTimeDocument, { input: { programId: 'HA', caseId: 'X', days: -1 } });

    for (const result of await Promise.all(good)) expect(result.errors).toBeUndefined();
    expect(onlyError(await reused).extensions?.code).toBe('CONFLICT');
    expect(onlyError(await unknown).extensions?.code).toBe('NOT_FOUND');
    expect(onlyError(await invalid).extensions?.code).toBe('BAD_USER_INPUT');
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard).toMatchObject({ resolvedCases: 11, avgResolutionTime: 24 / 11 });
  });

  it('keeps the neighbours of a unit that fails in the recorder: unknown program, conflicting key, broken row', async () => {
    const t = await testApp();
    await t.program('HA');
    const { recorder } = t.app.services;
    await recorder.record([resolution('KEYED', { idempotencyKey: 'k-1' })], { keyId: null });

    const goods = Array.from({ length: 5 }, (_, i) => recorder.record([resolution(`C-${i}`)], { keyId: null }));
    // Refusals are expected at once: on PostgreSQL they may settle before the goods do.
    const unknown = expect(
      recorder.record([resolution('X', { programId: 'NOPE' })], { keyId: null }),
    ).rejects.toMatchObject({
      extensions: { code: 'NOT_FOUND' },
    });
    const conflicting = expect(
      recorder.record([resolution('KEYED', { value: 8, idempotencyKey: 'k-1' })], { keyId: null }),
    ).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
    });
    // A row the database itself refuses fails the shared transaction; every unit is then retried alone.
    // (case_id is NOT NULL on both databases.)
    const broken = expect(
      recorder.record([resolution('X', { caseId: null as unknown as string })], { keyId: null }),
    ).rejects.toThrow();
    const more = Array.from({ length: 5 }, (_, i) => recorder.record([resolution(`D-${i}`)], { keyId: null }));

    for (const outcome of await Promise.all([...goods, ...more])) expect(outcome.accepted).toBe(1);
    await Promise.all([unknown, conflicting, broken]);
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(11);
  });
});

describe.runIf(SQLITE)('group commit on a SQLite file: where each commit runs', () => {
  const batch = (tag: string, size: number) => Array.from({ length: size }, (_, i) => resolution(`${tag}-${i}`));
  const writerOf = (t: Awaited<ReturnType<typeof testApp>>) => t.app.services.recorder.writer as SqliteFileWriter;

  it('writes groups of single mutations in the service thread and batches in the writer thread', async () => {
    const t = await testApp();
    await t.program('HA');
    const { recorder } = t.app.services;
    const writer = writerOf(t);
    expect(writer).toBeInstanceOf(SqliteFileWriter);

    await Promise.all(Array.from({ length: 25 }, (_, i) => recorder.record([resolution(`C-${i}`)], { keyId: null })));
    expect([writer.groupsHere, writer.groupsInThread]).toEqual([1, 0]);

    await recorder.record(batch('B', LOCAL_COMMIT_MAX_EVENTS + 1), { keyId: null, indexed: true, returnEvents: false });
    expect([writer.groupsHere, writer.groupsInThread]).toEqual([1, 1]);
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(25 + LOCAL_COMMIT_MAX_EVENTS + 1);
  });

  it('writes batches in the service thread too with SQLITE_WRITER_THREAD=off, and refuses any other value', async () => {
    const t = await testApp({ env: { SQLITE_WRITER_THREAD: 'off' } });
    await t.program('HA');
    const { recorder } = t.app.services;
    expect(recorder.writer).not.toBeInstanceOf(SqliteFileWriter);
    expect(recorder.writer.depth).toBe(1);

    expect((await recorder.record(batch('B', 500), { keyId: null, indexed: true, returnEvents: false })).accepted).toBe(
      500,
    );
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(500);
    expect(() => loadConfig({ SQLITE_WRITER_THREAD: 'no' })).toThrow(
      'SQLITE_WRITER_THREAD must be one of on, off (got "no")',
    );
  });

  it('keeps the neighbours of a unit that fails in the writer thread', async () => {
    const t = await testApp();
    await t.program('HA');
    const { recorder } = t.app.services;
    const writer = writerOf(t);
    const broken = batch('X', 60);
    broken[30] = resolution('X-30', { caseId: null as unknown as string });

    const goods = [
      recorder.record(batch('A', 60), { keyId: null, indexed: true, returnEvents: false }),
      recorder.record(batch('B', 60), { keyId: null, indexed: true, returnEvents: false }),
    ];
    const refused = expect(
      recorder.record(broken, { keyId: null, indexed: true, returnEvents: false }),
    ).rejects.toThrow();

    for (const outcome of await Promise.all(goods)) expect(outcome.accepted).toBe(60);
    await refused;
    expect(writer.groupsInThread).toBeGreaterThan(0);
    const { dashboard } = await t.ok(DashboardDocument, { programId: 'HA' });
    expect(dashboard.resolvedCases).toBe(120);
  });
});
