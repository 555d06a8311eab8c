/**
 * The raw events behind a number (issue 19), read by keyset: a page is the index range that
 * starts right after its cursor's (sort key, id), so every page costs what the first does, and an
 * event recorded meanwhile never makes a page repeat or skip another. The drill-down query and
 * the exports both read here.
 *
 * Orders: by occurredAt, or by value, ties broken by id in the same direction. In both value
 * orders the events without a value (conflicts) come last. Values of different kinds sit in
 * different runs of the (program, kind, value, id) index, so a value page reads each kind's run
 * and merges them.
 */
import { type SelectQueryBuilder, sql } from 'kysely';
import { selectArrays } from '../db/array-rows.js';
import { containsText } from '../db/text.js';
import type { Database, Executor } from '../db/types.js';
import { aggregateFiltered } from '../kpis/filtered.js';
import { eventTimeBounds, type ProgramRef } from '../kpis/kpi.service.js';
import { EVENT_KINDS, type EventKind } from '../kpis/registry.js';
import type { AttributeFilter } from '../scope/filter.js';
import type { EventRow } from './events.repository.js';

export const EVENT_ORDERS = ['OCCURRED_AT_DESC', 'OCCURRED_AT_ASC', 'VALUE_DESC', 'VALUE_ASC'] as const;
export type EventOrder = (typeof EVENT_ORDERS)[number];

/** What a list of events asks for, checked (program visible, filter in normal form). */
export interface EventQuery {
  program: ProgramRef;
  from: number | null;
  to: number | null;
  /** Sorted and unique; null: every kind. */
  kinds: EventKind[] | null;
  filter: AttributeFilter[];
  caseId: string | null;
  includeRetracted: boolean;
  orderBy: EventOrder;
}

/** Where a page starts: right after the event with this sort key (occurredAt, or value) and id. */
export interface Position {
  key: number | null;
  id: number;
}

export interface EventPage {
  rows: EventRow[];
  hasNextPage: boolean;
}

const byValue = (order: EventOrder) => order === 'VALUE_DESC' || order === 'VALUE_ASC';
const descending = (order: EventOrder) => order.endsWith('_DESC');

/** The sort key of a row in `order`. */
export function positionOf(row: EventRow, order: EventOrder): Position {
  return {
    key: byValue(order) ? (row.value === null ? null : Number(row.value)) : Number(row.occurred_at),
    id: Number(row.id),
  };
}

type EventSelect = SelectQueryBuilder<Database, 'events', object>;

/** Every condition of the query but the order: the events it lists. */
function matching(db: Executor, q: EventQuery, kinds: readonly EventKind[] | null = q.kinds): EventSelect {
  let select: EventSelect = db.selectFrom('events').where('program_id', '=', q.program.id);
  if (q.from !== null) select = select.where('occurred_at', '>=', q.from);
  if (q.to !== null) select = select.where('occurred_at', '<', q.to);
  if (q.caseId !== null) {
    select = select.where('case_id', '=', q.caseId);
    // One case holds few events: read them by the case index and sort them, rather than walk a
    // whole kind's value index for them (`kind || ''` keeps SQLite's planner, which has no
    // statistics, off that index; PostgreSQL's chooses by its own).
    if (kinds !== null) select = select.where(sql<string>`${sql.ref('kind')} || ''`, 'in', [...kinds]);
  } else if (kinds !== null) select = select.where('kind', 'in', [...kinds]);
  if (!q.includeRetracted) select = select.where('retracted_at', 'is', null);
  // Attributes are stored as JSON of an object of strings, so `"key":"value"` occurs in the text
  // exactly when the event has that attribute (a quote inside a value is escaped, and keys hold none).
  for (const f of q.filter)
    select = select.where((eb) =>
      eb.or(f.values.map((v) => containsText(eb.ref('attributes'), `${JSON.stringify(f.key)}:${JSON.stringify(v)}`))),
    );
  return select;
}

/** Up to `first` events after `after` (null: from the start), and whether more follow. */
export async function eventPage(
  db: Executor,
  q: EventQuery,
  first: number,
  after: Position | null,
): Promise<EventPage> {
  const rows = byValue(q.orderBy) ? await valuePage(db, q, first + 1, after) : await timePage(db, q, first + 1, after);
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}

function timePage(db: Executor, q: EventQuery, limit: number, after: Position | null): Promise<EventRow[]> {
  return timeSelect(db, q, limit, after).selectAll().execute();
}

function timeSelect(db: Executor, q: EventQuery, limit: number, after: Position | null): EventSelect {
  const direction = descending(q.orderBy) ? 'desc' : 'asc';
  let select = matching(db, q);
  if (after)
    select = select.where((eb) =>
      eb(eb.refTuple('occurred_at', 'id'), direction === 'desc' ? '<' : '>', eb.tuple(after.key ?? 0, after.id)),
    );
  return select.orderBy('occurred_at', direction).orderBy('id', direction).limit(limit);
}

async function valuePage(db: Executor, q: EventQuery, limit: number, after: Position | null): Promise<EventRow[]> {
  const direction = descending(q.orderBy) ? 'desc' : 'asc';
  const beyond = direction === 'desc' ? '<' : '>';
  const runs: Promise<EventRow[]>[] = [];
  for (const kind of q.kinds ?? EVENT_KINDS) {
    let select = matching(db, q, [kind]);
    if (kind === 'CONFLICT') {
      // No values: the last run, in id order (`value is null` lets the index give that order).
      select = select.where('value', 'is', null);
      if (after?.key === null) select = select.where('id', beyond, after.id);
      runs.push(select.selectAll().orderBy('id', direction).limit(limit).execute());
    } else {
      // Valued runs are over once the cursor is among the events without a value.
      if (after?.key === null) continue;
      if (after) select = select.where((eb) => eb(eb.refTuple('value', 'id'), beyond, eb.tuple(after.key!, after.id)));
      runs.push(select.selectAll().orderBy('value', direction).orderBy('id', direction).limit(limit).execute());
    }
  }
  const sign = direction === 'desc' ? -1 : 1;
  return (await Promise.all(runs))
    .flat()
    .sort((a, b) => {
      if (a.value === null || b.value === null) {
        if (a.value !== b.value) return a.value === null ? 1 : -1;
      } else if (a.value !== b.value) return sign * (a.value - b.value);
      return sign * (Number(a.id) - Number(b.id));
    })
    .slice(0, limit);
}

/** What an export writes of an event, in the order of EventTuple. */
const TUPLE_COLUMNS = [
  'id',
  'program_id',
  'kind',
  'case_id',
  'value',
  'reason',
  'occurred_at',
  'recorded_at',
  'retracted_at',
  'attributes',
] as const satisfies readonly (keyof EventRow)[];

export type EventTuple = [
  id: number,
  programId: string,
  kind: EventKind,
  caseId: string,
  value: number | null,
  reason: string | null,
  occurredAt: number,
  recordedAt: number,
  retractedAt: number | null,
  attributes: string | null,
];

/**
 * Every matching event in time order, page by page (a page is read only when the consumer asks for
 * it), each an EventTuple:
 * for exports, where a million rows read as arrays cost far less than as objects (db/array-rows.ts).
 */
export async function* everyEventTuple(db: Executor, q: EventQuery, pageSize = 2_000): AsyncGenerator<EventTuple[]> {
  if (byValue(q.orderBy)) throw new Error('everyEventTuple reads in time order only');
  let after: Position | null = null;
  for (;;) {
    const rows = (await selectArrays(db, timeSelect(db, q, pageSize + 1, after).select(TUPLE_COLUMNS))) as EventTuple[];
    const more = rows.length > pageSize;
    if (more) rows.length = pageSize;
    if (rows.length > 0) yield rows;
    if (!more) return;
    const last = rows[rows.length - 1];
    after = { key: Number(last[6]), id: Number(last[0]) };
  }
}

/** Whether the rollups can count the query: they hold live events by kind, program and one dimension. */
export function countableFromRollups(q: EventQuery): boolean {
  return q.caseId === null && !q.includeRetracted && q.filter.length <= 1;
}

/**
 * Every matching event: from the rollups where they hold the answer (whole buckets, raw events
 * only at the range's edges), else counted over the matching events.
 */
export async function countEvents(db: Executor, q: EventQuery, now: number): Promise<number> {
  if (!countableFromRollups(q)) {
    const row = await matching(db, q)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
  const bounds = await eventTimeBounds(db, [q.program.id]);
  if (!bounds) return 0;
  const start = Math.max(q.from ?? bounds.start, bounds.start);
  const end = Math.min(q.to ?? bounds.end, bounds.end);
  if (start >= end) return 0;
  const read = await aggregateFiltered(db, [q.program], q.filter, [{ start, end }], now);
  const total = read.get(q.program.id)![0];
  const kinds = new Set(q.kinds ?? EVENT_KINDS);
  return (
    (kinds.has('RESOLUTION_TIME') ? total.resCount : 0) +
    (kinds.has('SATISFACTION') ? total.satCount : 0) +
    (kinds.has('CONFLICT') ? total.conflicts : 0)
  );
}
