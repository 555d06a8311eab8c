/**
 * The benchmarks' bulk loader (bench/dataset.ts) writes rollups without the write path, so the
 * bench measures real rollups only if they are the ones the service would have: here they are
 * held to a rebuild from the raw events by the service's own rebuild (ensureRollups), with
 * attributes, across zones, a dataset grown by a second load (buckets stored already are merged)
 * and events recorded before it (as bench/breakdowns.ts seeds its dimension values).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addEvents, createDatabase, type BenchProgram } from '../bench/dataset.js';
import { openDatabase } from '../src/db/database.js';
import type { RollupTable } from '../src/db/types.js';
import { Aggregate } from '../src/kpis/aggregate.js';
import { mergeRow } from '../src/kpis/rollups.repository.js';
import { ensureRollups } from '../src/kpis/rollups-rebuild.js';
import { DAY } from '../src/kpis/time.js';
import { testDialect } from './helpers/app.js';

const PROGRAMS: BenchProgram[] = [
  { id: 'p-utc', timezone: 'UTC' },
  { id: 'p-kolkata', timezone: 'Asia/Kolkata' },
  { id: 'p-kathmandu', timezone: 'Asia/Kathmandu' },
  { id: 'p-new-york', timezone: 'America/New_York' },
];
const START = Date.UTC(2026, 1, 20, 7, 13);

const disposals: (() => void)[] = [];
afterEach(() => {
  for (const dispose of disposals.splice(0)) dispose();
});

const keyOf = (r: RollupTable) => `${r.program_id} ${r.level} ${Number(r.bucket_start)}`;

/**
 * What differs between two rows: counts and exact sums must be equal, each bin's mean equal to
 * 1e-12 (its float sum depends on how the events were split into chunks) and its count exactly.
 */
function differences(got: RollupTable, want: RollupTable): string[] {
  const [a, b] = [mergeRow(new Aggregate(), got), mergeRow(new Aggregate(), want)];
  const found: string[] = [];
  for (const k of ['resCount', 'satCount', 'satPositive', 'conflicts', 'resJudged', 'resWithin'] as const)
    if (a[k] !== b[k]) found.push(`${k} ${a[k]} ${b[k]}`);
  for (const k of ['resSum', 'resSquares', 'satSum', 'satSquares'] as const)
    if (a[k].value() !== b[k].value()) found.push(`${k} ${a[k].value()} ${b[k].value()}`);
  // Every rank, so every bin's mean; then the bins' counts cancel exactly.
  for (let rank = 1; rank <= b.resCount; rank++) {
    const [x, y] = [a.resHist.quantile(rank / b.resCount)!, b.resHist.quantile(rank / b.resCount)!];
    if (!(Math.abs(x - y) <= 1e-12 * Math.abs(y))) found.push(`rank ${rank}: ${x} ${y}`);
  }
  const difference = new Aggregate().merge(a).merge(b, -1).resHist.encode();
  if (difference.join() !== new Aggregate().resHist.encode().join()) found.push('histogram counts');
  return found.map((d) => `${keyOf(want)}: ${d}`);
}

describe.skipIf(testDialect !== 'sqlite')('the bench loader', () => {
  it('writes the rollups a rebuild from the raw events gives', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-dataset-'));
    disposals.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'bench.db');
    await createDatabase(file, PROGRAMS);
    // A few buckets stored before the load, as events recorded through the API leave them.
    await addEvents(file, 40, START + 20 * DAY, START + 21 * DAY, 5, PROGRAMS, true);
    await addEvents(file, 2_000, START, START + 60 * DAY, 1, PROGRAMS, true);
    // Grown: the first 40 days' buckets are stored, the rest new.
    await addEvents(file, 1_000, START + 30 * DAY, START + 100 * DAY, 2, PROGRAMS, true);

    const database = await openDatabase(file);
    disposals.push(() => void database.close());
    const loaded = await database.db.selectFrom('rollups').selectAll().execute();
    await database.db.updateTable('rollup_state').set({ version: 0 }).execute();
    expect(await ensureRollups(database)).toBe(true);
    const rebuilt = new Map((await database.db.selectFrom('rollups').selectAll().execute()).map((r) => [keyOf(r), r]));

    expect(loaded.map(keyOf).sort()).toEqual([...rebuilt.keys()].sort());
    expect(loaded.some((r) => r.program_id.includes('\u001f'))).toBe(true);
    expect(loaded.flatMap((row) => differences(row, rebuilt.get(keyOf(row))!))).toEqual([]);
  });
});
