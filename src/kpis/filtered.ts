/**
 * Reads under an attribute filter, and breakdowns (issue 18). Which path a read takes follows from
 * the filter's normal form (scope/filter.ts):
 *  - no filter: the program's own rollups (kpi.service.ts);
 *  - one key: the rollups of each of its values, summed; raw events only at the edges;
 *  - two keys or more: no rollup holds the combination, so the events of the programs in range are
 *    read and matched (exact; cost grows with the events in range, see README "Breakdowns").
 * A breakdown by a dimension, without a filter or with one on the same dimension, reads one set of
 * value rollups per value; with a filter on another dimension it is a combination, read raw.
 */
import type { Executor } from '../db/types.js';
import { type AttributeFilter, matcher } from '../scope/filter.js';
import { Aggregate } from './aggregate.js';
import {
  aggregateSpans,
  aggregateSpansOfAll,
  ownSource,
  type ProgramRef,
  readSpanAnswers,
  readSpanSets,
  readSpans,
  type Source,
} from './kpi.service.js';
import type { KpiInputs } from './registry.js';
import { dimensionRollupId } from './rollup-levels.js';
import { NO_ANSWERS } from './row-answers.js';
import type { Interval } from './time.js';
import { groupBy } from '../util/group-by.js';

/** One aggregate per program and span, counting only the events that match `filter`. */
export async function aggregateFiltered(
  db: Executor,
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  spans: readonly Interval[],
  now?: number,
): Promise<Map<string, Aggregate[]>> {
  return (await aggregateFilteredSets(db, programs, filter, [spans], now))[0];
}

/**
 * aggregateFiltered for several sets of spans (a dashboard's range and its series): one answer
 * per set, the same as asking for each alone. A combination of filters reads its raw events once
 * for all the sets, not once per set.
 */
export async function aggregateFilteredSets(
  db: Executor,
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  spanSets: readonly (readonly Interval[])[],
  now?: number,
): Promise<Map<string, Aggregate[]>[]> {
  if (filter.length === 0) {
    const answers: Map<string, Aggregate[]>[] = [];
    for (const spans of spanSets) answers.push(await aggregateSpans(db, programs, spans, now));
    return answers;
  }
  const sources = programs.flatMap((p) => filteredSources(p, filter, p.id));
  const reads = await readSpanSets(db, sources, spanSets, now);
  const byProgram = groupBy(sources, (s) => s.members[0]);
  return reads.map((read, set) => {
    // A program's first source's aggregates are its answer, the others' added to them: no copies
    // (a DAY series is 365 aggregates per source). Each read's aggregates belong to this call alone.
    const result = new Map<string, Aggregate[]>();
    for (const p of programs) {
      const own = byProgram.get(p.id);
      if (!own)
        result.set(
          p.id,
          spanSets[set].map(() => new Aggregate()),
        );
      else {
        const answer = read.get(own[0].key)!;
        for (let i = 1; i < own.length; i++) addInto(answer, read.get(own[i].key)!);
        result.set(p.id, answer);
      }
    }
    return result;
  });
}

/**
 * One program's events matching `filter`, per span, as what their KPIs are computed from (a
 * dashboard's series), where one rollup holds them (no filter, or one value of one key): each
 * span that is one stored bucket is read as its row's answers (readSpanAnswers). Null otherwise.
 */
export async function seriesAnswers(
  db: Executor,
  program: ProgramRef,
  filter: readonly AttributeFilter[],
  spans: readonly Interval[],
  now?: number,
): Promise<KpiInputs[] | null> {
  if (filter.length > 1 || (filter.length === 1 && filter[0].values.length > 1)) return null;
  const [source] = filter.length === 0 ? [ownSource(program)] : filteredSources(program, filter, program.id);
  // A key given twice with no value in common: nothing matches.
  if (!source) return spans.map(() => NO_ANSWERS);
  return (await readSpanAnswers(db, [source], spans, now)).get(source.key)!;
}

/** The spans summed over every program, from ALL_PROGRAMS's rollups when the caller sees them all and nothing is filtered. */
export async function aggregateScopeTotal(
  db: Executor,
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  everyProgram: boolean,
  spans: readonly Interval[],
  now?: number,
): Promise<Aggregate[]> {
  if (everyProgram && filter.length === 0)
    return aggregateSpansOfAll(
      db,
      programs.map((p) => p.id),
      spans,
      now,
    );
  const total = spans.map(() => new Aggregate());
  for (const aggregates of (await aggregateFiltered(db, programs, filter, spans, now)).values())
    addInto(total, aggregates);
  return total;
}

/** The sources whose sum is `program`'s events matching `filter` (one or more keys). */
function filteredSources(program: ProgramRef, filter: readonly AttributeFilter[], tag: string): Source[] {
  if (filter.length === 1) {
    const [{ key, values }] = filter;
    // Each value's events satisfy the whole filter: the edges read only events that may match.
    return values.map((value) => ({ ...valueSource(program, key, value, `${tag}\u0000${value}`), prefilter: filter }));
  }
  return [rawSource(program, `${tag}\u0000*`, filter, matcher(filter))];
}

/** `program`'s events that `match`, read raw: no rollup holds them. `prefilter` narrows the read in SQL. */
function rawSource(
  program: ProgramRef,
  key: string,
  prefilter: readonly AttributeFilter[],
  match: (attributes: Record<string, string>) => boolean,
): Source {
  return { key, rollupId: null, zone: program.timezone, members: [program.id], match, prefilter };
}

function valueSource(program: ProgramRef, key: string, value: string, sourceKey: string): Source {
  return {
    key: sourceKey,
    rollupId: dimensionRollupId(program.id, key, value),
    zone: program.timezone,
    members: [program.id],
    match: (attributes) => attributes[key] === value,
    equals: { key, value },
  };
}

function addInto(target: Aggregate[], parts: readonly Aggregate[]) {
  for (let i = 0; i < parts.length; i++) target[i].merge(parts[i]);
}

/** One breakdown row's aggregates, per span; `value` null for the events without the attribute. */
export interface BreakdownPart {
  value: string | null;
  aggregates: Aggregate[];
}

/**
 * Per value of dimension `by` (or per program, `by` "program"), the events of the scope matching
 * `filter`, per span. `valuesOf(programId)` lists the values the dimension has taken in a program.
 * Values and programs without any event in the spans are left out.
 */
export async function breakdown(
  db: Executor,
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  by: string,
  valuesOf: (programId: string) => readonly string[],
  spans: readonly Interval[],
  now?: number,
  /** False: no row for events without the attribute (it costs a subtraction per value and span). */
  withNull = true,
): Promise<BreakdownPart[]> {
  if (by === 'program') {
    const read = await aggregateFiltered(db, programs, filter, spans, now);
    return programs.map((p) => ({ value: p.id, aggregates: read.get(p.id)! }));
  }
  const others = filter.filter((f) => f.key !== by);
  const own = filter.find((f) => f.key === by);
  const rows = new Map<string | null, Aggregate[]>();
  const sources: Source[] = [];
  const valueOfSource = new Map<string, string | null>();
  const rest = matcher(others);
  for (const program of programs) {
    for (const value of rowValues(program, own, valuesOf)) {
      const key = valueKey(program, value);
      valueOfSource.set(key, value);
      if (others.length === 0) sources.push(valueSource(program, by, value, key));
      else sources.push(rawSource(program, key, others, (a) => a[by] === value && rest(a)));
    }
    // Events without the attribute match no filter on `by`; without one, they make the null row.
    if (own || !withNull) continue;
    const key = `${program.id}\u0000`;
    valueOfSource.set(key, null);
    if (others.length === 0)
      // The program's own rollups: the null row is what its values leave of them (aggregates subtract exactly).
      sources.push({ ...ownSource(program), key, valueLevels: true });
    else sources.push(rawSource(program, key, others, (a) => a[by] === undefined && rest(a)));
  }
  const read = await readSpans(db, sources, spans, now);
  // Null rows from totals: each program's total less its values (read before any value's
  // aggregates join a row below, which may add other programs' into them).
  const totals = new Map<string, Aggregate[]>();
  if (others.length === 0) {
    for (const source of sources)
      if (valueOfSource.get(source.key) === null) totals.set(source.members[0], read.get(source.key)!);
    for (const source of sources) {
      const total = totals.get(source.members[0]);
      if (!total || valueOfSource.get(source.key) === null) continue;
      const aggregates = read.get(source.key)!;
      for (let i = 0; i < spans.length; i++) total[i].merge(aggregates[i], -1);
    }
  }
  // A row is its first source's aggregates, and the others' are added to them: no copies.
  const join = (value: string | null, aggregates: Aggregate[]) => {
    const row = rows.get(value);
    if (row) addInto(row, aggregates);
    else rows.set(value, aggregates);
  };
  for (const source of sources) {
    const value = valueOfSource.get(source.key)!;
    if (value !== null || others.length > 0) join(value, read.get(source.key)!);
  }
  for (const total of totals.values()) join(null, total);
  return [...rows]
    .filter(([, aggregates]) => aggregates.some(hasData))
    .map(([value, aggregates]) => ({ value, aggregates }));
}

export const hasData = (a: KpiInputs) => a.resCount + a.satCount + a.conflicts > 0;

/** breakdown's rows per span as what their KPIs are computed from: a breakdown's series. */
export interface BreakdownSeriesPart {
  value: string | null;
  points: KpiInputs[];
}

/**
 * breakdown's answer per span, for KPIs only. Where every row is one rollup's (each program's
 * own, or the values of one program's dimension with no null row to take them from), each span
 * that is one stored bucket is read as its row's answers (readSpanAnswers); otherwise as breakdown.
 */
export async function breakdownSeries(
  db: Executor,
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  by: string,
  valuesOf: (programId: string) => readonly string[],
  spans: readonly Interval[],
  now?: number,
  withNull = true,
): Promise<BreakdownSeriesPart[]> {
  const rows = rowSources(programs, filter, by, valuesOf, withNull);
  if (!rows) {
    const parts = await breakdown(db, programs, filter, by, valuesOf, spans, now, withNull);
    return parts.map((p) => ({ value: p.value, points: p.aggregates }));
  }
  const read = await readSpanAnswers(
    db,
    rows.map((r) => r.source),
    spans,
    now,
  );
  return rows.map((r) => ({ value: r.value, points: read.get(r.source.key)! })).filter((p) => p.points.some(hasData));
}

/** The one source of each breakdown row, or null where a row sums several or is a difference. */
function rowSources(
  programs: readonly ProgramRef[],
  filter: readonly AttributeFilter[],
  by: string,
  valuesOf: (programId: string) => readonly string[],
  withNull: boolean,
): { value: string; source: Source }[] | null {
  if (by === 'program') return filter.length > 0 ? null : programs.map((p) => ({ value: p.id, source: ownSource(p) }));
  const own = filter.find((f) => f.key === by);
  if (programs.length !== 1 || filter.some((f) => f.key !== by) || (withNull && !own)) return null;
  const [program] = programs;
  return rowValues(program, own, valuesOf).map((value) => ({
    value,
    source: valueSource(program, by, value, valueKey(program, value)),
  }));
}

/** The values a breakdown has a row for in `program`: those it has taken, narrowed by a filter on the dimension. */
function rowValues(
  program: ProgramRef,
  own: AttributeFilter | undefined,
  valuesOf: (programId: string) => readonly string[],
): readonly string[] {
  if (!own) return valuesOf(program.id);
  const allowed = new Set(own.values);
  return valuesOf(program.id).filter((v) => allowed.has(v));
}

/** The source key of a breakdown's row for `value` in `program`. */
const valueKey = (program: ProgramRef, value: string) => `${program.id}\u0000${value}`;
