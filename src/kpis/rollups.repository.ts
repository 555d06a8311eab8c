/** Reading and writing rollup rows. */
import { sql } from 'kysely';
import { eachArray } from '../db/array-rows.js';
import { blobLengths, concatenatedBlobs, concatenatedBlobsOfGroup, joinedBlobs } from '../db/blob-text.js';
import { attributeEntries } from '../events/attributes.js';
import { insertRows } from '../write/insert-rows.js';
import type { WrittenRows } from '../write/written-rows.js';
import type { EventKind, Executor, RollupTable } from '../db/types.js';
import { Aggregate } from './aggregate.js';
import { PERCENTILES } from './registry.js';
import {
  ANSWERS_BYTES,
  answersBucketStart,
  decodeAnswers,
  addAnsweredCounts,
  encodeAnswers,
  type RowAnswers,
} from './row-answers.js';
import { ALL_PROGRAMS_ZONE, dimensionRollupId, levelsOf, MOST_LEVELS, type RollupLevel } from './rollup-levels.js';

export interface RollupDelta {
  programId: string;
  level: string;
  bucketStart: number;
  /** Read only: the rollups a commit adds the same events to share one (see foldDeltas). */
  aggregate: Aggregate;
  /** Whether another delta has this aggregate too: kept as a new row's only as a copy. */
  shared?: boolean;
}

/** The delta's aggregate, to keep and add to: a copy where other deltas share it. */
export const ownAggregate = (delta: RollupDelta): Aggregate =>
  delta.shared ? delta.aggregate.copy() : delta.aggregate;

/** Adds a stored rollup row to `target` (decoding its histogram straight into the target's). */
export function mergeRow(target: Aggregate, row: RollupTable, sign = 1): Aggregate {
  target.resCount += sign * Number(row.res_count);
  target.resSum.mergeEncoded(row.res_sum, sign);
  target.resSquares.mergeEncoded(row.res_squares, sign);
  target.resHist.mergeEncoded(row.res_hist, sign);
  target.satCount += sign * Number(row.sat_count);
  target.satSum.mergeEncoded(row.sat_sum, sign);
  target.satSquares.mergeEncoded(row.sat_squares, sign);
  target.satPositive += sign * Number(row.sat_positive);
  target.conflicts += sign * Number(row.conflicts);
  target.resJudged += sign * Number(row.res_judged);
  target.resWithin += sign * Number(row.res_within);
  return target;
}

/**
 * Hour rows are mostly read merged into longer spans (range edges, alert windows), so they store no
 * answers: no percentiles in the histogram (see Histogram.encode), nor the row's KPIs
 * (kpis/row-answers.ts). They are four in five of the rows a commit writes.
 */
export const storesAnswers = (level: string) => level !== 'H';

/**
 * A delta (or a merged aggregate) as the row stored for its bucket, to be written before `a`
 * changes: its histogram's bytes may be the histogram's own buffer (Histogram.encodeInPlace).
 */
export function rowOf(programId: string, level: string, bucketStart: number, a: Aggregate): RollupTable {
  const answers = storesAnswers(level);
  const histogram = a.resHist.encodeInPlace(answers ? PERCENTILES : []);
  return {
    program_id: programId,
    level,
    bucket_start: bucketStart,
    res_count: a.resCount,
    res_sum: a.resSum.encode(),
    res_squares: a.resSquares.encode(),
    res_hist: histogram,
    sat_count: a.satCount,
    sat_sum: a.satSum.encode(),
    sat_squares: a.satSquares.encode(),
    sat_positive: a.satPositive,
    conflicts: a.conflicts,
    res_within: a.resWithin,
    res_judged: a.resJudged,
    answers: answers ? encodeAnswers(bucketStart, a, histogram) : null,
  };
}

/** What the rollups need of an event. */
export interface RollupEvent {
  program_id: string;
  kind: EventKind;
  value: number | null;
  occurred_at: number;
  /** JSON of its attributes (events/attributes.ts): each adds to that dimension value's rollups too. */
  attributes?: string | null;
}

/** One rollup's deltas of a commit, a map of bucket start to delta per level. */
interface Folding {
  id: string;
  levels: readonly RollupLevel[];
  /**
   * Made at a level's first delta that may not be its only one: a commit has value rollups by the
   * thousand, nearly all with one bucket a level, which a map each would find nothing in.
   */
  buckets: (Map<number, RollupDelta> | undefined)[];
  /** Per level, the delta the last event went to: events mostly come in time order. */
  last: (RollupDelta | undefined)[];
  /** A value rollup's events, by index, folded once all are known (see foldDeltas). */
  events: number[];
}

/** Each program's service standard in days (null: none), read in the write's transaction. */
export type ProgramStandards = ReadonlyMap<string, number | null>;

/**
 * Sums events (sign 1) or retractions (sign -1) into one delta per rollup bucket they touch: the
 * program's own buckets, those of ALL_PROGRAMS (in the shard `total`, which the caller's
 * transaction holds: see ALL_PROGRAMS_SHARDS), and those of each of its attributes' values. Each
 * resolution time is judged against its program's standard in `standards`.
 */
export function rollupDeltas(
  rows: readonly RollupEvent[],
  zones: ReadonlyMap<string, string>,
  sign: 1 | -1,
  standards: ProgramStandards,
  total: string,
): RollupDelta[] {
  return foldDeltas(
    rows,
    zones,
    (aggregate, row) => aggregate.addEvent(row.kind, row.value, sign, standards.get(row.program_id) ?? null),
    total,
  );
}

/**
 * Folds events into one delta per rollup bucket they touch (see rollupDeltas), with `add` saying
 * what an event changes in a bucket's aggregate; ALL_PROGRAMS's in the shard `total`. This runs
 * for every event written, so each event's bucket starts are computed once for its zone (a value's
 * levels are the first of its program's: rollup-levels.ts) and a value's rollup is found by
 * program, key and value in nested maps, without building its id.
 *
 * A value's rollups are folded after the events' loop, rollup by rollup and level by level, each
 * delta taking its events in order (the same sums as event by event): a commit touches a few deltas
 * of its own per program but those of its values by the thousand, and adding each event to nine of
 * them in turn reached each from memory anew. In-process, this against the fold event by event,
 * on 2,000 events of the bench's batches with three attributes (load average 13): 17-20 µs of CPU
 * an event live (23-25 scattered), 15-16 (16-17) this way.
 */
export function foldDeltas<R extends RollupEvent>(
  rows: readonly R[],
  zones: ReadonlyMap<string, string>,
  add: (aggregate: Aggregate, row: R) => void,
  total: string,
): RollupDelta[] {
  const deltas: RollupDelta[] = [];
  const folding = (id: string, levels: readonly RollupLevel[]): Folding => ({
    id,
    levels,
    buckets: [],
    last: [],
    events: [],
  });
  const programs = new Map<
    string,
    {
      own: Folding;
      values: Map<string, Map<string, Folding>>;
    }
  >();
  const all = folding(total, levelsOf(ALL_PROGRAMS_ZONE));
  const valueTargets: Folding[] = [];
  // Each event's bucket starts, for its values' rollups folded after the loop (once one has any).
  let eventStarts: Float64Array | null = null;
  const starts: number[] = [];
  const allStarts: number[] = [];
  const newDelta = (target: Folding, i: number, start: number, aggregate?: Aggregate): RollupDelta => {
    const delta = {
      programId: target.id,
      level: target.levels[i].name,
      bucketStart: start,
      aggregate: aggregate ?? new Aggregate(),
    };
    deltas.push(delta);
    return delta;
  };
  const deltaOf = (target: Folding, i: number, start: number): RollupDelta => {
    let buckets = target.buckets[i];
    if (!buckets) target.buckets[i] = buckets = new Map();
    let delta = buckets.get(start);
    if (!delta) buckets.set(start, (delta = newDelta(target, i, start)));
    return delta;
  };
  const fold = (target: Folding, at: readonly number[], row: R) => {
    for (let i = 0; i < target.levels.length; i++) {
      const start = at[i];
      let delta = target.last[i];
      if (delta?.bucketStart !== start) target.last[i] = delta = deltaOf(target, i, start);
      add(delta.aggregate, row);
    }
  };
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    const t = Number(row.occurred_at);
    const zone = zones.get(row.program_id)!;
    let program = programs.get(row.program_id);
    if (!program)
      programs.set(row.program_id, (program = { own: folding(row.program_id, levelsOf(zone)), values: new Map() }));
    const { levels } = program.own;
    for (let i = 0; i < levels.length; i++) starts[i] = levels[i].floor(t, zone);
    fold(program.own, starts, row);
    const allLevels = all.levels;
    if (zone === ALL_PROGRAMS_ZONE) fold(all, starts, row);
    else {
      for (let i = 0; i < allLevels.length; i++) allStarts[i] = allLevels[i].floor(t, ALL_PROGRAMS_ZONE);
      fold(all, allStarts, row);
    }
    if (!row.attributes) continue;
    eventStarts ??= new Float64Array(MOST_LEVELS * rows.length);
    for (let i = 0; i < levels.length; i++) eventStarts[MOST_LEVELS * r + i] = starts[i];
    // Two lookups a value, by strings whose hashes are kept (attributeEntries keeps the parsed
    // texts): a commit meets most combinations of a program's values once (the bench's: 5,000), so
    // a map of the rollups of each combination met found few and allocated for each event.
    const entries = attributeEntries(row.attributes);
    for (let e = 0; e < entries.length; e++) {
      const key = entries[e][0];
      const value = entries[e][1];
      let byValue = program.values.get(key);
      if (!byValue) program.values.set(key, (byValue = new Map()));
      let target = byValue.get(value);
      if (!target) {
        byValue.set(value, (target = folding(dimensionRollupId(row.program_id, key, value), levelsOf(zone, true))));
        valueTargets.push(target);
      }
      target.events.push(r);
    }
  }
  for (const target of valueTargets) {
    // A level whose events all fall in one bucket, as all of a level folded before do, takes that
    // level's delta (the same events in the same order): in live order every level of a value does.
    let single: RollupDelta | undefined;
    for (let i = 0; i < target.levels.length; i++) {
      const start = oneBucket(eventStarts!, target.events, i);
      if (start !== null) {
        // The level's one delta: no other to find.
        const delta = newDelta(target, i, start, single?.aggregate);
        if (single) delta.shared = single.shared = true;
        else for (const r of target.events) add(delta.aggregate, rows[r]);
        single ??= delta;
        continue;
      }
      let delta: RollupDelta | undefined;
      for (const r of target.events) {
        const start = eventStarts![MOST_LEVELS * r + i];
        if (delta?.bucketStart !== start) delta = deltaOf(target, i, start);
        add(delta.aggregate, rows[r]);
      }
    }
  }
  return deltas;
}

/** The bucket start at level `level` of all `events` (indexes into `starts`), when they share one; else null. */
function oneBucket(starts: Float64Array, events: readonly number[], level: number): number | null {
  const start = starts[MOST_LEVELS * events[0] + level];
  for (let e = 1; e < events.length; e++) if (starts[MOST_LEVELS * events[e] + level] !== start) return null;
  return start;
}

/** The service standard of each program named, read with the caller's executor (inside its transaction). */
export async function standardsOf(db: Executor, programIds: readonly string[]): Promise<Map<string, number | null>> {
  const standards = new Map<string, number | null>();
  if (programIds.length === 0) return standards;
  for (const row of await db
    .selectFrom('programs')
    .select(['id', 'resolution_standard_days'])
    .where('id', 'in', [...programIds])
    .execute())
    standards.set(row.id, row.resolution_standard_days === null ? null : Number(row.resolution_standard_days));
  return standards;
}

const CHUNK = 500;
export const ROLLUP_COLUMNS = [
  'program_id',
  'level',
  'bucket_start',
  'res_count',
  'res_sum',
  'res_squares',
  'res_hist',
  'sat_count',
  'sat_sum',
  'sat_squares',
  'sat_positive',
  'conflicts',
  'res_within',
  'res_judged',
  'answers',
] as const satisfies readonly (keyof RollupTable)[];

/**
 * Adds each delta to its stored rollup (read, merge, write back) inside the caller's transaction.
 * The histogram is not a number a database can add, hence the read. A commit's deltas mostly share
 * a few bucket starts (this hour, today, this month) across many programs, so each level's stored
 * rows are read with one query: programs IN (...) and starts IN (...), which reads a few rows more
 * than needed at worst. Deltas spread too widely for that are read program by program.
 * With `written` (SQLite: see src/write/written-rows.ts), rows this process wrote last are taken from
 * memory, decoded, and only the others are read; each merged row is remembered as it is written.
 */
export async function applyRollupDeltas(
  trx: Executor,
  deltas: Iterable<RollupDelta>,
  written: WrittenRows<{ footprint(): number }> | null = null,
): Promise<void> {
  const byLevel = new Map<string, RollupDelta[]>();
  for (const delta of deltas) {
    const group = byLevel.get(delta.level);
    if (group) group.push(delta);
    else byLevel.set(delta.level, [delta]);
  }
  const rows: RollupTable[] = [];
  for (const [level, group] of byLevel) {
    // Per delta, its key and the row remembered for it: a commit of attributed events has thousands.
    const keys = written ? group.map((d) => writtenKey(level, d)) : null;
    const remembered: (Aggregate | undefined)[] = new Array(group.length);
    let unknown = group;
    if (written) {
      unknown = [];
      for (let i = 0; i < group.length; i++) {
        const aggregate = written.get(keys![i]) as Aggregate | undefined;
        if (aggregate) remembered[i] = aggregate;
        else unknown.push(group[i]);
      }
    }
    const stored = new Map<string, RollupTable>();
    for (const query of unknown.length > 0 ? storedRowQueries(unknown) : []) {
      for (const row of await trx
        .selectFrom('rollups')
        .selectAll()
        .where('level', '=', level)
        .where('program_id', 'in', query.programs)
        .where('bucket_start', 'in', query.starts)
        .execute()) {
        stored.set(`${row.program_id} ${Number(row.bucket_start)}`, row);
      }
    }
    for (let i = 0; i < group.length; i++) {
      const delta = group[i];
      let merged = remembered[i];
      if (merged) merged.merge(delta.aggregate);
      else {
        const row = stored.get(`${delta.programId} ${delta.bucketStart}`);
        if (row) merged = mergeRow(new Aggregate(), row).merge(delta.aggregate);
        else merged = ownAggregate(delta);
      }
      rows.push(rowOf(delta.programId, level, delta.bucketStart, merged));
      // In place: a rollback forgets every remembered row, so no uncommitted sum outlives it. Set
      // once encoded, which leaves its histogram held as its bytes (Histogram.encode): its size then.
      written?.set(keys![i], merged);
    }
  }
  // 15 parameters a row: 7,500 a statement, under SQLite's 32,766 and PostgreSQL's 65,535.
  for (let i = 0; i < rows.length; i += CHUNK) {
    await insertRows(trx, 'rollups upsert', ROLLUP_COLUMNS, rows.slice(i, i + CHUNK), (template) =>
      trx
        .insertInto('rollups')
        .values(template)
        .onConflict((oc) =>
          oc.columns(['program_id', 'level', 'bucket_start']).doUpdateSet({
            res_count: sql`excluded.res_count`,
            res_sum: sql`excluded.res_sum`,
            res_squares: sql`excluded.res_squares`,
            res_hist: sql`excluded.res_hist`,
            sat_count: sql`excluded.sat_count`,
            sat_sum: sql`excluded.sat_sum`,
            sat_squares: sql`excluded.sat_squares`,
            sat_positive: sql`excluded.sat_positive`,
            conflicts: sql`excluded.conflicts`,
            res_within: sql`excluded.res_within`,
            res_judged: sql`excluded.res_judged`,
            answers: sql`excluded.answers`,
          }),
        ),
    );
  }
}

const writtenKey = (level: string, d: RollupDelta) => `${level} ${d.programId} ${d.bucketStart}`;

/**
 * The reads that find the stored rows of one level's deltas: IN lists of at most CHUNK, over-reading
 * little. When programs × starts would read too many rows more than needed, one read per program
 * or one per start, whichever is fewer: programs in different zones have different local day and
 * month starts, so a commit across twenty programs in seven zones needs seven reads, not twenty.
 */
function storedRowQueries(group: RollupDelta[]): { programs: string[]; starts: number[] }[] {
  const programs = [...new Set(group.map((d) => d.programId))];
  const starts = [...new Set(group.map((d) => d.bucketStart))];
  if (programs.length <= CHUNK && starts.length <= CHUNK && programs.length * starts.length <= 4 * group.length) {
    return [{ programs, starts }];
  }
  const perProgram = programs.length <= starts.length;
  const others = new Map<string | number, (string | number)[]>();
  for (const d of group) {
    const [key, other] = perProgram ? [d.programId, d.bucketStart] : [d.bucketStart, d.programId];
    const list = others.get(key);
    if (list) list.push(other);
    else others.set(key, [other]);
  }
  return [...others].flatMap(([key, all]) =>
    Array.from({ length: Math.ceil(all.length / CHUNK) }, (_, i) => {
      const part = all.slice(i * CHUNK, (i + 1) * CHUNK);
      return perProgram
        ? { programs: [key as string], starts: part as number[] }
        : { programs: part as string[], starts: [key as number] };
    }),
  );
}

/**
 * Adds a level's rows of `programIds` in [start, end) to the aggregates `targetOf` names (a row it
 * names none for is skipped). A breakdown's totals read thousands of rows: each program's come as
 * one blob (db/blob-text.ts), every row in it its answers column (bucket start and counts), the
 * lengths of its five blobs, then the blobs, merged as they are split off. No object per row, and
 * no row outlives the read but for the views its histogram keeps. Hour rows store no answers, so
 * each comes as a row of its own (mergeRollupRows).
 */
export async function mergeRollups(
  db: Executor,
  level: string,
  programIds: string[],
  start: number,
  end: number,
  targetOf: (programId: string, bucketStart: number) => Aggregate | undefined,
): Promise<void> {
  if (!storesAnswers(level)) return mergeRollupRows(db, level, programIds, start, end, targetOf);
  const row = joinedBlobs([sql.ref('answers'), blobLengths(db, BLOBS), ...BLOBS.map((c) => sql.ref(c))]);
  await eachArray(
    db,
    db
      .selectFrom('rollups')
      .select([
        'program_id',
        (eb) => eb.fn.countAll<number>().as('rows'),
        concatenatedBlobsOfGroup(db, row).as('rows_bytes'),
      ])
      .where('level', '=', level)
      .where('program_id', 'in', programIds)
      .where('bucket_start', '>=', start)
      .where('bucket_start', '<', end)
      .groupBy('program_id'),
    ([programId, rows, blob]) => {
      const bytes = blob as Buffer;
      let at = 0;
      let read = 0;
      for (; at < bytes.byteLength; read++) {
        const lengths = at + ANSWERS_BYTES;
        let from = lengths + 4 * BLOBS.length;
        const ends = ROW_ENDS;
        for (let i = 0; i < BLOBS.length; i++) ends[i] = from += bytes.readUInt32BE(lengths + 4 * i);
        const target = targetOf(programId as string, answersBucketStart(bytes, at));
        if (target) {
          addAnsweredCounts(target, bytes, at);
          mergeBlobs(target, bytes, lengths + 4 * BLOBS.length, ends);
        }
        at = ends[BLOBS.length - 1];
      }
      // A row without answers would be missing from its program's blob, not merged.
      if (read !== Number(rows) || at !== bytes.byteLength)
        throw new Error(`rollup rows of level ${level} without answers: rebuild the rollups`);
    },
  );
}

/** Where each of a row's five blobs ends in the bytes read, reused row after row. */
const ROW_ENDS = new Array<number>(5).fill(0);

/** Adds a row's five blobs (BLOBS) to `target`: the first from `from` on, each ending where `ends` says. */
function mergeBlobs(target: Aggregate, bytes: Uint8Array, from: number, ends: readonly number[]) {
  target.resSum.mergeEncoded(bytes, 1, from, ends[0]);
  target.resSquares.mergeEncoded(bytes, 1, ends[0], ends[1]);
  target.satSum.mergeEncoded(bytes, 1, ends[1], ends[2]);
  target.satSquares.mergeEncoded(bytes, 1, ends[2], ends[3]);
  if (ends[4] > ends[3]) target.resHist.mergeEncoded(bytes.subarray(ends[3], ends[4]));
}

/** mergeRollups for a level whose rows store no answers: each row read as one, with its blobs joined. */
async function mergeRollupRows(
  db: Executor,
  level: string,
  programIds: string[],
  start: number,
  end: number,
  targetOf: (programId: string, bucketStart: number) => Aggregate | undefined,
): Promise<void> {
  await eachArray(
    db,
    db
      .selectFrom('rollups')
      .select([
        'program_id',
        'bucket_start',
        'res_count',
        'sat_count',
        'sat_positive',
        'conflicts',
        'res_within',
        'res_judged',
        ...BLOBS.slice(0, -1).map((c) => sql<number>`length(${sql.ref(c)})`.as(`${c}_bytes`)),
        concatenatedBlobs(db, BLOBS).as('blobs'),
      ])
      .where('level', '=', level)
      .where('program_id', 'in', programIds)
      .where('bucket_start', '>=', start)
      .where('bucket_start', '<', end),
    (array) => {
      const row = array as RollupArray;
      const target = targetOf(row[0] as string, Number(row[1]));
      if (!target) return;
      const bytes = row[BLOBS_AT] as Uint8Array;
      target.resCount += Number(row[2]);
      target.satCount += Number(row[3]);
      target.satPositive += Number(row[4]);
      target.conflicts += Number(row[5]);
      target.resWithin += Number(row[6]);
      target.resJudged += Number(row[7]);
      const ends = ROW_ENDS;
      let to = 0;
      for (let i = 0; i < BLOBS.length - 1; i++) ends[i] = to += Number(row[BLOB_LENGTHS_AT + i]);
      ends[BLOBS.length - 1] = bytes.byteLength;
      mergeBlobs(target, bytes, 0, ends);
    },
  );
}

/**
 * The stored answers (kpis/row-answers.ts) of a level's rows of `programIds` with bucket_start in
 * [first, last], each given to `take`: the answers column alone, none of the sums or histograms.
 * A year of days of 50 values is 18,000 rows of a few numbers each, which cost more made into
 * arrays of JavaScript values than read (40 ms against 3 in SQLite alone): so each program's
 * come as one blob (db/blob-text.ts), read in place.
 */
export async function readRowAnswers(
  db: Executor,
  level: string,
  programIds: string[],
  first: number,
  last: number,
  take: (programId: string, bucketStart: number, answers: RowAnswers) => void,
): Promise<void> {
  await eachArray(
    db,
    db
      .selectFrom('rollups')
      .select(['program_id', concatenatedBlobsOfGroup(db, sql.ref('answers')).as('answers')])
      .where('level', '=', level)
      .where('program_id', 'in', programIds)
      .where('bucket_start', '>=', first)
      .where('bucket_start', '<=', last)
      .groupBy('program_id'),
    ([programId, blob]) => {
      const bytes = blob as Buffer;
      for (let at = 0; at < bytes.byteLength; at += ANSWERS_BYTES)
        take(programId as string, answersBucketStart(bytes, at), decodeAnswers(bytes, at));
    },
  );
}

/**
 * The blob columns, in the order mergeRollups concatenates them: the histogram, the long one, last,
 * since each || copies all that is joined so far (a year's month rows by office: 1.14 -> 0.99 ms in SQLite).
 */
const BLOBS = ['res_sum', 'res_squares', 'sat_sum', 'sat_squares', 'res_hist'] as const;

/** A rollup row as mergeRollups selects it: ids and counts, the lengths of the first four blobs, then all five as one. */
type RollupArray = (string | number | Uint8Array | null)[];
const BLOB_LENGTHS_AT = 8;
const BLOBS_AT = 12;
