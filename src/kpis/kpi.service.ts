/**
 * The read path: aggregates for programs over spans of time, from rollups for whole buckets and
 * from raw events only at partial edges. Cost grows with the buckets answered, not the events stored.
 */
import type { Executor } from '../db/types.js';
import { Aggregate } from './aggregate.js';
import { LEVELS, cover, type Piece } from './rollup-levels.js';
import { aggregateOfRow, readRollups } from './rollups.repository.js';
import type { Interval } from './time.js';

export interface ProgramRef {
  id: string;
  timezone: string;
}

/**
 * One aggregate per program and span. `zone` is the zone the spans were cut in; null means each
 * program's own zone, which lets every span use the program's local-day rollups.
 */
export async function aggregateSpans(
  db: Executor,
  programs: readonly ProgramRef[],
  spans: readonly Interval[],
  zone: string | null,
): Promise<Map<string, Aggregate[]>> {
  const result = new Map(programs.map((p) => [p.id, spans.map(() => new Aggregate())]));
  // Programs that share a time zone need the same pieces, so they share every query.
  for (const [timezone, group] of groupBy(programs, (p) => p.timezone)) {
    const levels = zone === null || zone === timezone ? LEVELS : LEVELS.filter((l) => l.name !== 'L');
    const pieces = spans.flatMap((span, i) => cover(span.start, span.end, timezone, i, levels));
    const ids = group.map((p) => p.id);
    for (const [source, list] of groupBy(pieces, (p) => p.source)) {
      const gap = source === 'raw' ? 0 : 4 * LEVELS.find((l) => l.name === source)!.length;
      for (const run of runsOf(list, gap)) {
        if (source === 'raw') {
          for (const event of await readLiveEvents(db, ids, run.start, run.end)) {
            const piece = pieceAt(list, Number(event.occurred_at));
            if (piece) result.get(event.program_id)![piece.span].addEvent(event.kind, event.value);
          }
        } else {
          for (const row of await readRollups(db, source, ids, run.start, run.end)) {
            const piece = pieceAt(list, Number(row.bucket_start));
            if (piece) result.get(row.program_id)![piece.span].merge(aggregateOfRow(row));
          }
        }
      }
    }
  }
  return result;
}

function readLiveEvents(db: Executor, programIds: string[], start: number, end: number) {
  return db
    .selectFrom('events')
    .select(['program_id', 'kind', 'value', 'occurred_at'])
    .where('program_id', 'in', programIds)
    .where('occurred_at', '>=', start)
    .where('occurred_at', '<', end)
    .where('retracted_at', 'is', null)
    .execute();
}

/** The first and last instants holding a live event, for ranges with an open bound. */
export async function eventTimeBounds(db: Executor, programIds: string[]): Promise<Interval | null> {
  if (programIds.length === 0) return null;
  const row = await db
    .selectFrom('events')
    .select((eb) => [eb.fn.min('occurred_at').as('first'), eb.fn.max('occurred_at').as('last')])
    .where('program_id', 'in', programIds)
    .where('retracted_at', 'is', null)
    .executeTakeFirst();
  if (row?.first == null || row.last == null) return null;
  return { start: Number(row.first), end: Number(row.last) + 1 };
}

/** Pieces (sorted, disjoint) joined into query ranges wherever the gap between them is at most `gap`. */
function runsOf(pieces: Piece[], gap: number): Interval[] {
  const runs: Interval[] = [];
  for (const piece of pieces) {
    const last = runs[runs.length - 1];
    if (last && piece.start - last.end <= gap) last.end = Math.max(last.end, piece.end);
    else runs.push({ start: piece.start, end: piece.end });
  }
  return runs;
}

/** The piece holding instant `t`, by binary search; a row in a gap between pieces belongs to none. */
function pieceAt(pieces: Piece[], t: number): Piece | undefined {
  let lo = 0;
  let hi = pieces.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const piece = pieces[mid];
    if (t < piece.start) hi = mid - 1;
    else if (t >= piece.end) lo = mid + 1;
    else return piece;
  }
  return undefined;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
