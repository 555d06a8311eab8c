/**
 * mergeRollups reads each program's rollup rows of a level joined into one blob (row after row: its
 * answers column, the lengths of its five blobs, the blobs). These cases hold that read to the rows
 * read one by one, on both databases, and check that a row missing its answers column (which would
 * drop out of the join) fails the read rather than going uncounted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { ValidEvent } from '../src/events/validate.js';
import { Aggregate } from '../src/kpis/aggregate.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import { mergeRollups, mergeRow } from '../src/kpis/rollups.repository.js';
import { insertProgram } from '../src/programs/programs.repository.js';
import { createEventBus } from '../src/realtime/pubsub.js';
import { Recorder } from '../src/write/record.service.js';
import { freshDatabaseUrl } from './helpers/app.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 0, 1);
const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const dispose of disposals.splice(0).reverse()) await dispose();
});

/** 2,000 events over 70 days of programs A (UTC) and B (Asia/Kolkata): resolutions, scores and conflicts. */
function events(): ValidEvent[] {
  return Array.from({ length: 2_000 }, (_, i) => ({
    kind: i % 7 === 0 ? 'CONFLICT' : i % 3 === 0 ? 'SATISFACTION' : 'RESOLUTION_TIME',
    programId: i % 2 === 0 ? 'A' : 'B',
    caseId: `case-${i}`,
    value: i % 7 === 0 ? null : i % 3 === 0 ? 1 + (i % 5) : 0.25 + ((i * 37) % 1_009) / 13,
    reason: null,
    occurredAt: START + ((i * 7_919_113) % (70 * 24 * HOUR)),
    occurredAtGiven: true,
    idempotencyKey: null,
  }));
}

async function recorded(): Promise<OpenDatabase> {
  const database = await openDatabase(freshDatabaseUrl());
  disposals.push(() => database.close());
  await migrateToLatest(database);
  await ensureRollups(database);
  for (const [id, timezone] of [
    ['A', 'UTC'],
    ['B', 'Asia/Kolkata'],
  ])
    await insertProgram(database.db, { id, name: id, timezone, created_at: 0 });
  await new Recorder(database, createEventBus(), () => START + 80 * 24 * HOUR).record(events(), {
    keyId: null,
    indexed: true,
  });
  return database;
}

/** What a level's rows of A and B in the range sum to, per program and bucket, read by mergeRollups. */
async function merged(database: OpenDatabase, level: string, start: number, end: number) {
  const targets = new Map<string, Aggregate>();
  await mergeRollups(database.db, level, ['A', 'B'], start, end, (programId, bucketStart) => {
    const key = `${programId} ${bucketStart}`;
    if (!targets.has(key)) targets.set(key, new Aggregate());
    return targets.get(key);
  });
  return targets;
}

describe('rollup reads that join each program’s rows into one blob', () => {
  it('give every row of each level exactly as the row read alone', async () => {
    const database = await recorded();
    for (const level of ['M', 'L', 'D', 'H']) {
      const rows = await database.db
        .selectFrom('rollups')
        .selectAll()
        .where('level', '=', level)
        .where('program_id', 'in', ['A', 'B'])
        .execute();
      expect(rows.length, level).toBeGreaterThan(1);
      const read = await merged(database, level, START - 24 * HOUR, START + 80 * 24 * HOUR);
      expect(read.size, level).toBe(rows.length);
      for (const row of rows) {
        const want = mergeRow(new Aggregate(), row);
        const got = read.get(`${row.program_id} ${Number(row.bucket_start)}`)!;
        for (const count of ['resCount', 'satCount', 'satPositive', 'conflicts', 'resWithin', 'resJudged'] as const)
          expect(got[count], `${level} ${count}`).toBe(want[count]);
        for (const sum of ['resSum', 'resSquares', 'satSum', 'satSquares'] as const)
          expect(got[sum].value(), `${level} ${sum}`).toBe(want[sum].value());
        for (const q of [0.1, 0.5, 0.9, 1]) expect(got.resHist.quantile(q)).toBe(want.resHist.quantile(q));
      }
    }
  });

  it('skip the rows no target is named for, and stop at the range', async () => {
    const database = await recorded();
    const from = START + 10 * 24 * HOUR;
    const to = START + 20 * 24 * HOUR;
    const days = await merged(database, 'L', from, to);
    const starts = [...days.keys()].map((key) => Number(key.split(' ')[1]));
    expect(starts.length).toBeGreaterThan(0);
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(from);
    expect(Math.max(...starts)).toBeLessThan(to);

    let named = 0;
    const onlyA = new Aggregate();
    await mergeRollups(database.db, 'L', ['A', 'B'], from, to, (programId) => {
      if (programId !== 'A') return undefined;
      named++;
      return onlyA;
    });
    const rowsOfA = [...days.keys()].filter((key) => key.startsWith('A ')).length;
    expect(named).toBe(rowsOfA);
    expect(onlyA.resCount).toBe([...days].reduce((n, [key, a]) => n + (key.startsWith('A ') ? a.resCount : 0), 0));
  });

  it('fail, rather than leave a row out, when a row has no answers column', async () => {
    const database = await recorded();
    await database.db
      .updateTable('rollups')
      .set({ answers: null })
      .where('program_id', '=', 'A')
      .where('level', '=', 'L')
      .where('bucket_start', '=', START + 24 * HOUR)
      .execute();
    await expect(merged(database, 'L', START, START + 80 * 24 * HOUR)).rejects.toThrow(
      /rollup rows of level L without answers/,
    );
  });
});
