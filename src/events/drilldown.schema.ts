/** The GraphQL face of drill-down (issue 19): Query.events, a keyset-paginated connection. */
import { builder } from '../schema/builder.js';
import { AttributeFilterInput } from '../scope/filter.schema.js';
import { checkedEventQuery, type EventConnection, eventConnection, MAX_PAGE } from './drilldown.service.js';
import { EVENT_ORDERS } from './event-list.js';
import { EventKindEnum, MetricEventRef } from './events.schema.js';

const EventOrderEnum = builder.enumType('EventOrder', {
  description:
    'Ties are broken by id, in the same direction. In both value orders, events without a value (conflicts) come last.',
  values: EVENT_ORDERS,
});

const PageInfoRef = builder.objectRef<EventConnection['pageInfo']>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', {
      nullable: true,
      description: "The last edge's cursor, for `after`; null on an empty page.",
    }),
  }),
});

const EventEdgeRef = builder.objectRef<EventConnection['edges'][number]>('EventEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      description: 'Opaque, and valid only as `after` of the same query (the same arguments but `first`).',
    }),
    node: t.field({ type: MetricEventRef, resolve: (e) => e.node }),
  }),
});

const EventConnectionRef = builder.objectRef<EventConnection>('EventConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [EventEdgeRef], resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, resolve: (c) => c.pageInfo }),
    totalCount: t.int({
      description: 'Events matching the arguments, over all pages.',
      resolve: (c) => c.totalCount(),
    }),
  }),
});

builder.queryFields((t) => ({
  events: t.field({
    type: EventConnectionRef,
    description: 'The raw events behind a number, newest first by default; keyset-paginated.',
    authScopes: { read: true },
    args: {
      programId: t.arg.id({ required: true }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      kinds: t.arg({ type: [EventKindEnum] }),
      filter: t.arg({ type: [AttributeFilterInput] }),
      caseId: t.arg.string(),
      includeRetracted: t.arg.boolean({ defaultValue: false }),
      orderBy: t.arg({ type: EventOrderEnum, defaultValue: 'OCCURRED_AT_DESC' }),
      first: t.arg.int({ defaultValue: 50, description: `1 to ${MAX_PAGE}.` }),
      after: t.arg.string({ description: "An edge's cursor from the same query: the page continues right after it." }),
    },
    resolve: async (_, args, ctx) => {
      const query = await checkedEventQuery(ctx, { ...args, programId: String(args.programId) });
      return eventConnection(ctx, query, args.first ?? 50, args.after ?? null);
    },
  }),
}));
