/**
 * Drill-down (issue 19): the arguments of `events(…)`, checked once for the GraphQL field and the
 * HTTP exports alike, and one page of the connection.
 */
import type { Context } from '../context.js';
import { EVENT_KINDS, type EventKind } from '../kpis/registry.js';
import { badInput } from '../schema/errors.js';
import { checkedScope } from '../scope/scope.js';
import { cursorMaker, readCursor } from './event-cursor.js';
import { countEvents, type EventOrder, type EventQuery, eventPage, positionOf } from './event-list.js';
import type { EventRow } from './events.repository.js';

export const MAX_PAGE = 500;

export interface EventArgs {
  programId: string;
  from?: number | null;
  to?: number | null;
  kinds?: readonly EventKind[] | null;
  filter?: readonly { key: string; values: readonly string[] }[] | null;
  caseId?: string | null;
  includeRetracted?: boolean | null;
  orderBy?: EventOrder | null;
}

/**
 * The query `args` ask for, for this caller: the program visible (FORBIDDEN beyond the key,
 * NOT_FOUND when unknown) and every argument within its rule (BAD_USER_INPUT naming it).
 */
export async function checkedEventQuery(ctx: Context, args: EventArgs): Promise<EventQuery> {
  const scope = await checkedScope(ctx, { programId: args.programId, filter: args.filter });
  const from = args.from ?? null;
  const to = args.to ?? null;
  if (from !== null && to !== null && from >= to) throw badInput('from', 'must be before to');
  let kinds: EventKind[] | null = null;
  if (args.kinds != null) {
    if (args.kinds.length === 0) throw badInput('kinds', 'must name at least one kind, or be left out for every kind');
    kinds = EVENT_KINDS.filter((k) => args.kinds!.includes(k));
  }
  const caseId = args.caseId ?? null;
  if (caseId !== null && (caseId.length < 1 || caseId.length > 128))
    throw badInput('caseId', 'must be 1 to 128 characters');
  const program = scope.programs[0];
  return {
    program: { id: program.id, timezone: program.timezone },
    from,
    to,
    kinds,
    filter: scope.filter,
    caseId,
    includeRetracted: args.includeRetracted ?? false,
    orderBy: args.orderBy ?? 'OCCURRED_AT_DESC',
  };
}

export interface EventConnection {
  edges: { cursor: string; node: EventRow }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  /** Counted only when asked for. */
  totalCount: () => Promise<number>;
}

export async function eventConnection(
  ctx: Context,
  q: EventQuery,
  first: number,
  after: string | null,
): Promise<EventConnection> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw badInput('first', `must be between 1 and ${MAX_PAGE}`);
  const { db } = ctx.services;
  const position = after == null ? null : await readCursor(db, q, after);
  const [page, cursorOf] = await Promise.all([eventPage(db, q, first, position), cursorMaker(db, q)]);
  const edges = page.rows.map((node) => ({ cursor: cursorOf(positionOf(node, q.orderBy)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount: () => countEvents(db, q, ctx.services.now()),
  };
}
