/**
 * SQLite keeps the rollup rows it wrote in memory (src/write/written-rows.ts) and skips reading them
 * back. These cases hold it to the rows a rebuild from raw events gives: with a second connection
 * writing the same file in between, and after a transaction that failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { WrittenRows } from '../src/write/written-rows.js';
import { inProcessWriter, SqliteFileWriter, type EventWriter } from '../src/write/event-writer.js';
import { Recorder } from '../src/write/record.service.js';
import { ThreadWriter } from '../src/write/writer-thread.js';
import type { ValidEvent } from '../src/events/validate.js';
import { Aggregate } from '../src/kpis/aggregate.js';
import { applyRollupDeltas, mergeRow, rollupDeltas } from '../src/kpis/rollups.repository.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import { ALL_PROGRAMS } from '../src/kpis/rollup-levels.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { testDialect } from './helpers/app.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 3, 1);
const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposals.splice(0).reverse()) await dispose();
});

function events(tag: string, count: number): ValidEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    kind: i % 3 === 0 ? 'SATISFACTION' : 'RESOLUTION_TIME',
    programId: i % 2 === 0 ? 'A' : 'B',
    caseId: `${tag}-${i}`,
    value: i % 3 === 0 ? 1 + (i % 5) : 0.25 + ((i * 37) % 101) / 7,
    reason: null,
    occurredAt: START + ((i * 7_919_113) % (30 * HOUR)),
    occurredAtGiven: true,
    idempotencyKey: null,
  }));
}

async function open(file: string): Promise<{ database: OpenDatabase; recorder: Recorder }> {
  const database = await openDatabase(file);
  disposals.push(() => database.close());
  return { database, recorder: new Recorder(database, createEventBus(), () => START + 40 * HOUR) };
}

/** Every stored rollup row equals the one a fold of the stored events gives. */
async function expectExact(database: OpenDatabase) {
  const stored = await database.db.selectFrom('rollups').selectAll().execute();
  const raw = await database.db
    .selectFrom('events')
    .select(['program_id', 'kind', 'value', 'occurred_at'])
    .where('retracted_at', 'is', null)
    .execute();
  const zones = new Map([
    ['A', 'UTC'],
    ['B', 'Asia/Kolkata'],
  ]);
  const expected = new Map(
    rollupDeltas(raw, zones, 1, new Map(), ALL_PROGRAMS).map((d) => [
      `${d.programId} ${d.level} ${d.bucketStart}`,
      d.aggregate,
    ]),
  );
  expect(stored.length).toBe(expected.size);
  for (const row of stored) {
    const want = expected.get(`${row.program_id} ${row.level} ${Number(row.bucket_start)}`)!;
    const got = mergeRow(new Aggregate(), row);
    expect([got.resCount, got.satCount, got.conflicts]).toEqual([want.resCount, want.satCount, want.conflicts]);
    // Sums are exact: the same value to the last bit, however the writes were split.
    for (const sum of ['resSum', 'resSquares', 'satSum', 'satSquares'] as const)
      expect(got[sum].value(), sum).toBe(want[sum].value());
    for (const q of [0.1, 0.5, 0.9, 1]) expect(got.resHist.quantile(q)).toBeCloseTo(want.resHist.quantile(q)!, 9);
  }
}

describe.skipIf(testDialect !== 'sqlite')('rollup rows remembered by the SQLite writer', () => {
  it('stay exact when another connection writes the same file in between', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'written-rollups-'));
    disposals.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'kpi.db');
    const first = await open(file);
    await migrateToLatest(first.database);
    await ensureRollups(first.database);
    await insertProgram(first.database.db, { id: 'A', name: 'A', timezone: 'UTC', created_at: 0 });
    await insertProgram(first.database.db, { id: 'B', name: 'B', timezone: 'Asia/Kolkata', created_at: 0 });
    const second = await open(file);

    await first.recorder.record(events('one', 300), { keyId: null, indexed: true });
    expect(first.database.writtenRollups!.size).toBeGreaterThan(0);
    await second.recorder.record(events('two', 300), { keyId: null, indexed: true });
    await first.recorder.record(events('three', 300), { keyId: null, indexed: true });
    await expectExact(first.database);

    const retracted = await first.database.db
      .selectFrom('events')
      .select('id')
      .where('case_id', '=', 'two-4')
      .executeTakeFirstOrThrow();
    await second.recorder.retract(retracted.id, () => true);
    await first.recorder.record(events('four', 300), { keyId: null, indexed: true });
    await expectExact(first.database);
  });

  it('stay exact, and never written by both at once, when the service thread and the writer thread take turns', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'written-rollups-'));
    disposals.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'kpi.db');
    const { database } = await open(file);
    await migrateToLatest(database);
    await ensureRollups(database);
    await insertProgram(database.db, { id: 'A', name: 'A', timezone: 'UTC', created_at: 0 });
    await insertProgram(database.db, { id: 'B', name: 'B', timezone: 'Asia/Kolkata', created_at: 0 });
    // Each write's span, by where it ran: the two connections must never hold a transaction together.
    const spans: { where: string; start: number; end: number }[] = [];
    const timed = (where: string, writer: EventWriter): EventWriter => ({
      depth: writer.depth,
      close: () => writer.close(),
      writeSpooled: (request) => writer.writeSpooled(request),
      write: async (units, zones, now) => {
        const start = performance.now();
        try {
          return await writer.write(units, zones, now);
        } finally {
          spans.push({ where, start, end: performance.now() });
        }
      },
    });
    const writer = new SqliteFileWriter(
      timed('here', inProcessWriter(database)),
      timed('thread', new ThreadWriter(file)),
    );
    const recorder = new Recorder(
      database,
      createEventBus(),
      () => START + 40 * HOUR,
      Number.POSITIVE_INFINITY,
      writer,
    );
    disposals.push(() => recorder.close());

    // Single events alone (written here), a batch soon after (to the thread, once they are
    // written), single events while the thread writes it (they must join the thread); every other
    // round waits for all of it, so that the next one starts with both idle.
    const pending: Promise<unknown>[] = [];
    const singles = (tag: string) =>
      events(tag, 20).map((event) => pending.push(recorder.record([event], { keyId: null })));
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    for (let round = 0; round < 8; round++) {
      singles(`first-${round}`);
      for (let i = 0; i < 10; i++) await turn();
      pending.push(recorder.record(events(`batch-${round}`, 150), { keyId: null, indexed: true, returnEvents: false }));
      for (let i = 0; i < 10; i++) await turn();
      singles(`then-${round}`);
      if (round % 2 === 1) await Promise.all(pending);
    }
    await Promise.all(pending);

    expect(writer.groupsHere).toBeGreaterThan(1);
    expect(writer.groupsInThread).toBeGreaterThan(0);
    const here = spans.filter((s) => s.where === 'here');
    for (const other of spans.filter((s) => s.where === 'thread')) {
      for (const mine of here) expect(mine.end <= other.start || other.end <= mine.start).toBe(true);
    }
    expect(
      await database.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst(),
    ).toEqual({ n: 8 * 190 });
    await expectExact(database);
  });

  it('forget a transaction that rolled back', async () => {
    const { database, recorder } = await open(':memory:');
    await migrateToLatest(database);
    await ensureRollups(database);
    await insertProgram(database.db, { id: 'A', name: 'A', timezone: 'UTC', created_at: 0 });
    await insertProgram(database.db, { id: 'B', name: 'B', timezone: 'Asia/Kolkata', created_at: 0 });
    await recorder.record(events('one', 200), { keyId: null, indexed: true });
    const zones = new Map([
      ['A', 'UTC'],
      ['B', 'Asia/Kolkata'],
    ]);
    const doomed = events('doomed', 200).map((e) => ({
      program_id: e.programId,
      kind: e.kind,
      value: e.value,
      occurred_at: e.occurredAt,
    }));
    await expect(
      database.db.transaction().execute(async (trx) => {
        await applyRollupDeltas(trx, rollupDeltas(doomed, zones, 1, new Map(), ALL_PROGRAMS), database.writtenRollups);
        throw new Error('fails after the rollups were written');
      }),
    ).rejects.toThrow('fails after');
    await recorder.record(events('two', 200), { keyId: null, indexed: true });
    await expectExact(database);
  });

  it('keep within their memory budget, forgetting the least recently used first', () => {
    const rows = new WrittenRows<{ bytes: number }>(100, (v) => v.bytes);
    rows.set('a', { bytes: 40 });
    rows.set('b', { bytes: 40 });
    rows.get('a');
    rows.set('c', { bytes: 40 });
    expect([rows.get('a'), rows.get('b'), rows.get('c')].map((v) => v?.bytes)).toEqual([40, undefined, 40]);
    const grown = rows.get('a')!;
    grown.bytes = 90;
    rows.set('a', grown);
    expect([rows.get('a')?.bytes, rows.get('c'), rows.size]).toEqual([90, undefined, 1]);
  });
});
