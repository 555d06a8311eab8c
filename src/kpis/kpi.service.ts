/**
 * The read path: aggregates for programs over spans of time, from rollups for whole buckets and
 * from raw events only at partial edges. Cost grows with the buckets answered, not the events stored.
 */
import { sql } from 'kysely';
import { selectArrays } from '../db/array-rows.js';
import type { EventKind, Executor } from '../db/types.js';
import { type AttributeFilter, filterKey } from '../scope/filter.js';
import { Aggregate } from './aggregate.js';
import {
  ALL_PROGRAMS,
  ALL_PROGRAMS_ZONE,
  cover,
  isValueRollup,
  levelLength,
  levelsOf,
  type Piece,
  type RollupLevel,
  storedRollupIds,
} from './rollup-levels.js';
import type { KpiInputs } from './registry.js';
import { NO_ANSWERS } from './row-answers.js';
import {
  mergeRollups,
  type ProgramStandards,
  readRowAnswers,
  standardsOf,
  storesAnswers,
} from './rollups.repository.js';
import { fixedFloor, HOUR, type Interval } from './time.js';
import { groupBy } from '../util/group-by.js';

export interface ProgramRef {
  id: string;
  timezone: string;
}

/**
 * One aggregate per program and span. Spans may be cut in any zone: each is covered with whole
 * buckets of the program's own levels, and raw events fill the rest. `now`, where given, lets a
 * span that reaches it read its last, unfinished hour from the rollups (see complementHour).
 */
export async function aggregateSpans(
  db: Executor,
  programs: readonly ProgramRef[],
  spans: readonly Interval[],
  now?: number,
): Promise<Map<string, Aggregate[]>> {
  return readSpans(db, programs.map(ownSource), spans, now);
}

/** A program's own rollups, all its events, keyed by its id. */
export const ownSource = (program: ProgramRef): Source => ({
  key: program.id,
  rollupId: program.id,
  zone: program.timezone,
  members: [program.id],
  match: null,
});

/**
 * One aggregate per span, summed over every program, from the ALL_PROGRAMS rollups: a row per
 * bucket and shard in use, however many programs there are. Only for a caller who may see every program, and
 * `programIds` must name them all (their raw events fill the edges).
 */
export async function aggregateSpansOfAll(
  db: Executor,
  programIds: string[],
  spans: readonly Interval[],
  now?: number,
): Promise<Aggregate[]> {
  const result = await readSpans(
    db,
    [{ key: ALL_PROGRAMS, rollupId: ALL_PROGRAMS, zone: ALL_PROGRAMS_ZONE, members: programIds, match: null }],
    spans,
    now,
  );
  return result.get(ALL_PROGRAMS)!;
}

/**
 * What one answer is read from: a rollup id (a program, ALL_PROGRAMS, or a dimension value), its
 * zone, whose raw events belong to it, and which of those by their attributes.
 */
export interface Source {
  key: string;
  /** Null: no rollup holds it (a combination of filters), so every piece is read from raw events. */
  rollupId: string | null;
  zone: string;
  members: string[];
  /** Which raw events of its members belong to it, by their attributes; null: all of them. */
  match: ((attributes: Record<string, string>) => boolean) | null;
  /**
   * Set where `match` is exactly "attribute `key` is `value`": a raw event then goes straight to
   * the source of its value rather than through the match of each (a breakdown has one per value).
   */
  equals?: { key: string; value: string };
  /**
   * Filters every event of the source satisfies. When all sources of a read share them, the read
   * asks the database for those events only (a text test on the stored attributes), so a
   * combination of filters parses the few events that may match, not all in range.
   */
  prefilter?: readonly AttributeFilter[];
  /**
   * Covered with the levels a value rollup keeps (no hours), though its own rollup keeps more: a
   * breakdown's null row, its program's total, is then read by the same queries as the values
   * beside it, raw edges included, rather than by queries of its own.
   */
  valueLevels?: boolean;
}

/** Whether a source is covered with the levels of value rollups (rollup-levels.ts). */
const coveredAsValue = (s: Source) => s.valueLevels === true || isValueRollup(s.rollupId!);

interface Target {
  aggregates: Aggregate[];
  match: Source['match'];
  prefilter: string;
  filters: readonly AttributeFilter[];
}

/** A member's targets: all of them, those its raw events are tested against, and those of one attribute value, by key and value. */
interface MemberTargets {
  all: Target[];
  tested: Target[];
  byAttribute: Map<string, Map<string, Target[]>>;
}

/**
 * One aggregate per source and span. Sources with a rollup read whole buckets from it and raw
 * events at the edges; sources without one read every event of their members in the spans
 * (bounded by the events in range, not by all events stored).
 */
export async function readSpans(
  db: Executor,
  sources: Source[],
  spans: readonly Interval[],
  now = Number.POSITIVE_INFINITY,
): Promise<Map<string, Aggregate[]>> {
  return (await readSpanSets(db, sources, [spans], now))[0];
}

/**
 * readSpans for several sets of spans at once (a dashboard's whole range and its series buckets):
 * one answer per set. Sources without a rollup read each event in range once for all the sets,
 * and each set takes it in the order readSpans alone would (the same query, in index order), so
 * its aggregates are the same to the last bit.
 */
export async function readSpanSets(
  db: Executor,
  sources: Source[],
  spanSets: readonly (readonly Interval[])[],
  now = Number.POSITIVE_INFINITY,
): Promise<Map<string, Aggregate[]>[]> {
  const results = spanSets.map((spans) => new Map(sources.map((s) => [s.key, spans.map(() => new Aggregate())])));
  const reads = rawReads(db, sources);
  const rawOnly = sources.filter((s) => s.rollupId === null);
  if (rawOnly.length > 0) {
    const layers = spanSets.map((spans, set): Layer => {
      const pieces = spans.map(
        (span, i): Piece => ({ source: 'raw', start: span.start, end: span.end, span: i, sign: 1 }),
      );
      return { pieces: pieces.sort((a, b) => a.start - b.start), byMember: membersOf(rawOnly, results[set]) };
    });
    const all = layers.flatMap((l) => l.pieces).sort((a, b) => a.start - b.start);
    for (const run of runsOf(all, 0)) await readRaw(reads, layers, run, 1);
  }
  const withRollup = sources.filter((s) => s.rollupId !== null);
  if (withRollup.length > 0)
    for (let set = 0; set < spanSets.length; set++)
      await readRollupSources(db, reads, withRollup, spanSets[set], now, results[set]);
  return results;
}

/**
 * readSpans for sources each answered alone (nothing sums them after), as what their KPIs are
 * computed from. A span that is one whole bucket of a level its source stores (a DAY series in
 * its program's zone: every day) is that row's stored answers (row-answers.ts); the other spans,
 * and sources that keep no single row per bucket (ALL_PROGRAMS's are sharded), are aggregated as
 * readSpans does.
 */
export async function readSpanAnswers(
  db: Executor,
  sources: Source[],
  spans: readonly Interval[],
  now = Number.POSITIVE_INFINITY,
): Promise<Map<string, KpiInputs[]>> {
  const result = new Map<string, KpiInputs[]>(sources.map((s) => [s.key, new Array(spans.length)]));
  const stored = (s: Source) => s.rollupId !== null && storedRollupIds(s.rollupId).length === 1;
  const aggregated = sources.filter((s) => !stored(s));
  if (aggregated.length > 0)
    for (const [key, aggregates] of await readSpans(db, aggregated, spans, now)) result.set(key, aggregates);
  // Sources that share a zone and kind of rollup share the levels, so the same spans are whole buckets.
  const single = groupBy(sources.filter(stored), (s) => `${s.zone}\u0000${isValueRollup(s.rollupId!)}`);
  for (const group of single.values()) {
    const { buckets, rest } = oneBucketSpans(
      spans,
      group[0].zone,
      levelsOf(group[0].zone, isValueRollup(group[0].rollupId!)),
    );
    const byRollup = new Map(group.map((s) => [s.rollupId!, result.get(s.key)!]));
    for (const [level, spanAt] of buckets) {
      let first = Number.POSITIVE_INFINITY;
      let last = Number.NEGATIVE_INFINITY;
      for (const start of spanAt.keys()) [first, last] = [Math.min(first, start), Math.max(last, start)];
      await readRowAnswers(db, level, [...byRollup.keys()], first, last, (id, start, answers) => {
        const span = spanAt.get(start);
        if (span !== undefined) byRollup.get(id)![span] = answers;
      });
      for (const points of byRollup.values()) for (const span of spanAt.values()) points[span] ??= NO_ANSWERS;
    }
    if (rest.length === 0) continue;
    const read = await readSpans(
      db,
      group,
      rest.map((i) => spans[i]),
      now,
    );
    for (const s of group) {
      const aggregates = read.get(s.key)!;
      for (let j = 0; j < rest.length; j++) result.get(s.key)![rest[j]] = aggregates[j];
    }
  }
  return result;
}

/**
 * Which spans are one whole bucket of a level that stores answers: per level, the span index of
 * each such bucket by its start; the indexes of the others in `rest`.
 */
function oneBucketSpans(spans: readonly Interval[], zone: string, levels: readonly RollupLevel[]) {
  const buckets = new Map<string, Map<number, number>>();
  const rest: number[] = [];
  spans.forEach((span, i) => {
    const pieces = cover(span.start, span.end, zone, i, levels);
    const level = pieces.length === 1 ? levels.find((l) => l.name === pieces[0].source) : undefined;
    // One piece may be a run of buckets (a week of days): one bucket ends at the next boundary.
    if (!level || !storesAnswers(level.name) || level.ceil(span.start + 1, zone) !== span.end) rest.push(i);
    else {
      const spanAt = buckets.get(level.name) ?? new Map<number, number>();
      buckets.set(level.name, spanAt.set(span.start, i));
    }
  });
  return { buckets, rest };
}

/** The sources with a rollup: whole buckets from it, raw events at the edges. */
async function readRollupSources(
  db: Executor,
  reads: RawReads,
  sources: Source[],
  spans: readonly Interval[],
  now: number,
  result: Map<string, Aggregate[]>,
) {
  // Sources that share a time zone need the same pieces, so they share every query.
  // Value rollups keep no hours (rollup-levels.ts), so they are covered apart, and their present
  // hour is read from raw events.
  for (const group of groupBy(sources, (s) => `${s.zone}\u0000${coveredAsValue(s)}`).values()) {
    const { zone } = group[0];
    const value = coveredAsValue(group[0]);
    const covered = spans.flatMap((span, i) => cover(span.start, span.end, zone, i, levelsOf(zone, value)));
    const pieces = value ? covered : complementHour(covered, spans, now);
    const byRollup = new Map(
      group.flatMap((s) => storedRollupIds(s.rollupId!).map((id) => [id, result.get(s.key)!] as const)),
    );
    const byMember = membersOf(group, result);
    // Events to take away are read before the rollups that hold them: an event committed between
    // the two reads is then counted in full, never taken away without having been added.
    const groups = [...groupBy(pieces, (p) => `${p.sign < 0 ? 0 : 1}${p.source}`).values()].sort(
      (a, b) => a[0].sign - b[0].sign,
    );
    for (const list of groups) {
      const { source, sign } = list[0];
      // Nearby pieces are read by one query; the rows between them are skipped below.
      const gap = source === 'raw' ? 0 : 4 * levelLength(source);
      for (const run of runsOf(list, gap)) {
        if (source === 'raw') await readRaw(reads, [{ pieces: list, byMember }], run, sign);
        else {
          await mergeRollups(db, source, [...byRollup.keys()], run.start, run.end, (id, bucketStart) => {
            const piece = pieceAt(list, bucketStart);
            return piece && byRollup.get(id)![piece.span];
          });
        }
      }
    }
  }
}

/** The targets each member's raw events go to: the sources that hold it, with their aggregates in `result`. */
function membersOf(sources: Source[], result: Map<string, Aggregate[]>): Map<string, MemberTargets> {
  const byMember = new Map<string, MemberTargets>();
  for (const source of sources) {
    const target: Target = {
      aggregates: result.get(source.key)!,
      match: source.match,
      prefilter: filterKey(source.prefilter ?? []),
      filters: source.prefilter ?? [],
    };
    for (const member of source.members) {
      let targets = byMember.get(member);
      if (!targets) byMember.set(member, (targets = { all: [], tested: [], byAttribute: new Map() }));
      targets.all.push(target);
      if (!source.equals) targets.tested.push(target);
      else {
        const { key, value } = source.equals;
        let byValue = targets.byAttribute.get(key);
        if (!byValue) targets.byAttribute.set(key, (byValue = new Map()));
        const list = byValue.get(value);
        if (list) list.push(target);
        else byValue.set(value, [target]);
      }
    }
  }
  return byMember;
}

/** What the raw reads of one readSpanSets call share. */
interface RawReads {
  /** The members' service standards (raw events are judged against them), read once when needed. */
  standards(): Promise<ProgramStandards>;
  /**
   * readLiveEvents, each distinct read once: the span sets of a dashboard (its range and its
   * series) have the same partial days at their edges. Rows are never changed by their readers.
   */
  events(
    members: string[],
    run: Interval,
    withAttributes: boolean,
    prefilter: readonly AttributeFilter[],
  ): ReturnType<typeof readLiveEvents>;
}

function rawReads(db: Executor, sources: Source[]): RawReads {
  let standards: Promise<ProgramStandards> | null = null;
  const events = new Map<string, ReturnType<typeof readLiveEvents>>();
  return {
    standards: () => (standards ??= standardsOf(db, [...new Set(sources.flatMap((s) => s.members))])),
    events(members, run, withAttributes, prefilter) {
      const key = JSON.stringify([members, run.start, run.end, withAttributes, filterKey(prefilter)]);
      let read = events.get(key);
      if (!read) events.set(key, (read = readLiveEvents(db, members, run.start, run.end, withAttributes, prefilter)));
      return read;
    },
  };
}

/** One set of spans a raw read answers: its pieces (sorted, disjoint) and the targets of each member. */
interface Layer {
  pieces: Piece[];
  byMember: Map<string, MemberTargets>;
}

/**
 * Adds (or takes away) the raw events of a run to every target they belong to, in each layer. The
 * layers hold the same sources (so the same members and filters), each with aggregates of its own.
 */
async function readRaw(reads: RawReads, layers: Layer[], run: Interval, sign: number) {
  const { byMember } = layers[0];
  let withAttributes = false;
  let prefilter: readonly AttributeFilter[] | null = null;
  for (const targets of byMember.values()) {
    for (const target of targets.all) {
      if (target.match !== null) withAttributes = true;
      if (prefilter === null) prefilter = target.filters;
      else if (filterKey(prefilter) !== target.prefilter) prefilter = [];
    }
  }
  const events = await reads.events([...byMember.keys()], run, withAttributes, prefilter ?? []);
  const standards = events.some((e) => e[KIND] === 'RESOLUTION_TIME') ? await reads.standards() : null;
  for (const event of events) {
    const at = Number(event[OCCURRED_AT]);
    const programId = event[PROGRAM_ID] as string;
    let attributes: Record<string, string> | undefined;
    for (const layer of layers) {
      const piece = pieceAt(layer.pieces, at);
      if (!piece) continue;
      const targets = layer.byMember.get(programId)!;
      for (const target of targets.tested) {
        if (target.match) {
          attributes ??= attributesOf(event);
          if (!target.match(attributes)) continue;
        }
        addRawEvent(target, piece.span, event, sign, standards);
      }
      if (targets.byAttribute.size === 0) continue;
      attributes ??= attributesOf(event);
      for (const [key, byValue] of targets.byAttribute) {
        const value = attributes[key];
        if (value !== undefined)
          for (const target of byValue.get(value) ?? []) addRawEvent(target, piece.span, event, sign, standards);
      }
    }
  }
}

/**
 * A span that ends at `now` or later ends in raw events from the start of its last hour: the whole
 * hour so far, which under steady ingestion is most of what is being written. Read instead that
 * hour's rollup less the events after the span's end, which can only be the few stamped up to five
 * minutes ahead. Skipped where another span covers those minutes, so pieces of one source never overlap.
 */
function complementHour(pieces: Piece[], spans: readonly Interval[], now: number): Piece[] {
  return pieces.flatMap((piece) => {
    const span = spans[piece.span];
    const hourEnd = piece.start + HOUR;
    const lastHour =
      piece.source === 'raw' &&
      piece.sign > 0 &&
      piece.end === span.end &&
      span.end >= now &&
      fixedFloor(piece.start, HOUR) === piece.start &&
      span.end < hourEnd;
    if (!lastHour || spans.some((other) => other !== span && other.start < hourEnd && other.end > span.end))
      return [piece];
    return [
      { source: 'H', start: piece.start, end: hourEnd, span: piece.span, sign: 1 },
      { source: 'raw', start: span.end, end: hourEnd, span: piece.span, sign: -1 },
    ];
  });
}

/**
 * The live events of `programIds` in [start, end), as arrays (db/array-rows.ts: an object per row
 * cost most of a breakdown's edge read): program, kind, value, time, attributes (null without).
 */
function readLiveEvents(
  db: Executor,
  programIds: string[],
  start: number,
  end: number,
  withAttributes: boolean,
  prefilter: readonly AttributeFilter[],
) {
  let query = db
    .selectFrom('events')
    .select([
      'program_id',
      'kind',
      'value',
      'occurred_at',
      withAttributes ? 'attributes' : sql<string | null>`null`.as('attributes'),
    ])
    .where('program_id', 'in', programIds)
    .where('occurred_at', '>=', start)
    .where('occurred_at', '<', end)
    .where('retracted_at', 'is', null);
  // A necessary condition, as text: `"key":"value"` inside the stored JSON, for one of the values
  // of every filter. LIKE (case-insensitive on SQLite) may let a few more through; the match after
  // the read is exact.
  for (const f of prefilter) {
    query = query.where((eb) =>
      eb.or(f.values.map((v) => sql<boolean>`${eb.ref('attributes')} like ${likePattern(f.key, v)} escape '!'`)),
    );
  }
  return selectArrays(db, query);
}

const [PROGRAM_ID, KIND, VALUE, OCCURRED_AT, ATTRIBUTES] = [0, 1, 2, 3, 4];

const attributesOf = (event: unknown[]): Record<string, string> =>
  event[ATTRIBUTES] ? (JSON.parse(event[ATTRIBUTES] as string) as Record<string, string>) : {};

function addRawEvent(target: Target, span: number, event: unknown[], sign: number, standards: ProgramStandards | null) {
  target.aggregates[span].addEvent(
    event[KIND] as EventKind,
    event[VALUE] as number | null,
    sign,
    standards?.get(event[PROGRAM_ID] as string) ?? null,
  );
}

/** `%"key":"value"%` with LIKE's own characters escaped by `!`. */
function likePattern(key: string, value: string): string {
  const text = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
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
